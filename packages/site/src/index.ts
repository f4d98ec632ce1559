/**
 * @vhost-user/site: the rendered spec. `buildSite` writes every version, diff page and search
 * index into one folder; the unified plugins are exported for reuse and testing.
 */
export { buildSite, SiteBuildError, type BuildOptions, type BuildResult } from './build.js';
export { checkLinks, idCounts, type LinkReport } from './check/links.js';
export { serveStatic, type RunningServer } from './serve/static-server.js';
export { viewOf, linkTargets, type SpecView, type NameTarget } from './spec-view.js';
export { default as remarkRestoreDirectives } from './plugins/remark-restore-directives.js';
export { default as remarkSpecMarkers, MARKER_NAMES, type SpecMarkerOptions } from './plugins/remark-spec-markers.js';
export { default as rehypeHeadingAnchors } from './plugins/rehype-heading-anchors.js';
export { default as rehypeSectionNumbers, type TocEntry } from './plugins/rehype-section-numbers.js';
export { default as rehypeRfc2119 } from './plugins/rehype-rfc2119.js';
export { default as rehypeLinkMentions } from './plugins/rehype-link-mentions.js';
export { default as rehypeResolveLinks } from './plugins/rehype-resolve-links.js';
export { default as rehypeBreakConstants } from './plugins/rehype-break-constants.js';
