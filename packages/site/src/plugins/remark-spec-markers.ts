/**
 * Expands the markers of the prose (`::message{name=...}`, `::payload{name=...}`,
 * `::table{of=...}`, ...) into the reference blocks and tables built from the YAML.
 *
 * Payload, enum and ring tables get an id (`payload-VringAddr`) the first time they appear in
 * a version; `claims` is shared by all chapters of the version so that id stays unique.
 */
import type { Root } from 'mdast';
import type { LeafDirective } from 'mdast-util-directive';
import type { Element } from 'hast';
import { h } from 'hastscript';
import type { Plugin } from 'unified';
import { visit } from 'unist-util-visit';
import { enumAnchor, payloadAnchor, ringAnchor } from '../render/common.js';
import { renderEnum } from '../render/enum.js';
import { renderProtocolFeature, renderVirtioFeature } from '../render/feature.js';
import type { HistoryLookup } from '../render/history.js';
import { renderMessage } from '../render/message.js';
import { renderPayload } from '../render/payload.js';
import { renderRingLayout, renderRingStates } from '../render/ring.js';
import { renderTable, TABLE_KINDS, type TableKind } from '../render/tables.js';
import type { SpecView } from '../spec-view.js';

export const MARKER_NAMES = ['message', 'feature', 'payload', 'enum', 'ring', 'table', 'clarification'] as const;

export interface SpecMarkerOptions {
  spec: SpecView;
  /** Ids already given out in this version. */
  claims?: Set<string>;
  history?: HistoryLookup;
  /** Structs and enums that a marker shows somewhere in the version (links to other structs
   *  stay text; other enums are printed under the first payload that uses them). Default: every
   *  struct, no enum. */
  linkable?: { structs: Set<string>; enums: Set<string> };
}

function claim(claims: Set<string>, id: string): string | undefined {
  if (claims.has(id)) return undefined;
  claims.add(id);
  return id;
}

const remarkSpecMarkers: Plugin<[SpecMarkerOptions], Root> = (options) => {
  const { spec } = options;
  const structs = new Map(spec.structs.map((p) => [p.name, p]));
  const lookup = (name: string) => structs.get(name);
  const linkableStructs = options.linkable?.structs ?? new Set(structs.keys());
  const linkableEnums = options.linkable?.enums ?? new Set<string>();
  const hasStruct = (name: string): boolean => linkableStructs.has(name);
  const enums = new Map(spec.enums.map((e) => [e.name, e]));
  // Enums no marker shows are printed under the payload that uses them, so all are linkable.
  const hasEnum = (name: string): boolean => enums.has(name);
  const history: HistoryLookup = options.history ?? (() => []);

  return (tree, file) => {
    const claims = options.claims ?? new Set<string>();

    const payloadTable = (name: string): Element | undefined => {
      const payload = structs.get(name);
      if (!payload) return undefined;
      const inlineEnum = (enumName: string): Element | undefined => {
        const def = enums.get(enumName);
        if (!def || linkableEnums.has(enumName) || claims.has(enumAnchor(enumName))) return undefined;
        return renderEnum(def, claim(claims, enumAnchor(enumName)));
      };
      return renderPayload(payload, { lookup, id: claim(claims, payloadAnchor(name)), hasEnum, hasStruct, inlineEnum });
    };

    const expand = (node: LeafDirective): Element | undefined => {
      const attrs = node.attributes ?? {};
      const name = attrs.name ?? '';
      switch (node.name) {
        case 'message': {
          const message = spec.messages.find((m) => m.name === name);
          return message && renderMessage(message, { hasStruct, history: history('message', name) });
        }
        case 'feature': {
          const protocol = spec.protocolFeatures.find((b) => b.name === name);
          if (protocol) return renderProtocolFeature(protocol, spec.messages, history('feature', name));
          const virtio = spec.virtioFeatures.find((b) => b.name === name);
          return virtio && renderVirtioFeature(virtio, spec.messages, history('feature', name));
        }
        case 'payload':
          return payloadTable(name);
        case 'clarification': {
          // The paragraph above is stricter than upstream: say so, why, and who already agrees.
          const upstream =
            attrs.upstream === 'none' || !attrs.upstream ? 'states no rule here' : `says ${attrs.upstream}`;
          const agree = (attrs.agree ?? '').split(',').filter(Boolean).join(', ');
          return h('aside', { className: ['clarification'] }, [
            h('strong', 'Clarification added by this specification.'),
            ` The upstream text ${upstream}. ${attrs.reason ?? ''}`,
            agree ? ` Implementations that already behave so: ${agree}.` : '',
          ]);
        }
        case 'enum': {
          const def = spec.enums.find((e) => e.name === name);
          return def && renderEnum(def, claim(claims, enumAnchor(name)));
        }
        case 'ring': {
          const layout = attrs.layout === 'split' || attrs.layout === 'packed' ? spec.rings[attrs.layout] : undefined;
          if (!layout) return undefined;
          const id = claim(claims, ringAnchor(layout.ring));
          return renderRingLayout(
            layout,
            id,
            layout.structs.map((s) => payloadTable(s.name)).filter((e): e is Element => e !== undefined),
          );
        }
        case 'table': {
          const of = attrs.of ?? '';
          if (!(TABLE_KINDS as readonly string[]).includes(of)) return undefined;
          return (
            renderTable(of as TableKind, spec, hasStruct, () =>
              spec.rules ? renderRingStates(spec.rules, history) : null,
            ) ?? undefined
          );
        }
        default:
          return undefined;
      }
    };

    visit(tree, 'leafDirective', (node) => {
      if (!(MARKER_NAMES as readonly string[]).includes(node.name)) return;
      let element = expand(node);
      if (!element) {
        const written = `::${node.name}{${Object.entries(node.attributes ?? {})
          .map(([k, v]) => `${k}=${v ?? ''}`)
          .join(' ')}}`;
        file.message(`marker ${written} names nothing in spec ${spec.version}`, node);
        element = h('div', { className: ['marker-error'] }, `Unresolved marker ${written}`);
      }
      node.data = { hName: element.tagName, hProperties: element.properties, hChildren: element.children };
    });
  };
};

export default remarkSpecMarkers;
