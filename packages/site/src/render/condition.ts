/** Session-rule conditions as readable text: "VHOST_USER_PROTOCOL_F_MQ negotiated and ...". */
import type { Condition } from '@vhost-user/generator';
import { constant, type Child } from './common.js';

export function conditionText(condition: Condition): Child[] {
  if ('protocolFeature' in condition) return [constant(condition.protocolFeature), ' negotiated'];
  if ('virtioFeature' in condition) return [constant(condition.virtioFeature), ' negotiated'];
  if ('virtioFeatureOffered' in condition) return [constant(condition.virtioFeatureOffered), ' offered'];
  if ('receivedBefore' in condition) return ['after ', constant(condition.receivedBefore)];
  if ('not' in condition) return ['not (', ...conditionText(condition.not), ')'];
  const [word, parts] = 'all' in condition ? [' and ', condition.all] : [' or ', condition.any];
  return parts.flatMap((part, i) => (i === 0 ? conditionText(part) : [word, ...conditionText(part)]));
}
