/** Public entry of the generator package: load, lint and export the spec. */
export * from './schema.js';
export * from './yaml-file.js';
export * from './spec-files.js';
export * from './load.js';
export * from './repository.js';
export * from './layout.js';
export * from './prose.js';
export { checkRepository, lintRepository, RULES, LOADER_RULES, type LintRule } from './lint/index.js';
export * from './diff/index.js';
export { closest, didYouMean } from './lint/suggest.js';
export { readImplementations, type ImplementationEntry } from './lint/governance.js';
export { enforceableLevel, proseClarifications, clarificationProblems, type ProseClarification } from './provenance.js';
