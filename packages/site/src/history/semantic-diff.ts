/**
 * The semantic diff between two spec versions, from the review tooling (`diffModels` in
 * @vhost-user/generator), shared with `vhost-user diff`.
 */
export { diffModels as semanticDiff, type Change, type SpecDiff } from '@vhost-user/generator';
