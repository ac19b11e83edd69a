export {
  createHttpApi,
  DEFAULT_OPTIONS,
  type HttpApi,
  type HttpApiDeps,
  type HttpApiOptions,
} from './api.js';
export { openApiDocument } from './openapi.js';
export { PROBLEM_BASE, PROBLEM_TYPES, type ProblemType } from './problems.js';
