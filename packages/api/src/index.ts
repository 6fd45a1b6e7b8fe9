/**
 * `@fieldproof/api`: the HTTP api (fastify) — evidence intake with group commit, operational records,
 * lists, anchoring status, API keys, health, metrics and OpenAPI docs. See docs/API.md.
 */
export { buildApp, FIRST_KEY_HINT, type BuildAppOptions } from './build-app.js';
export { startApi, type RunningApi, type StartApiOptions } from './start-api.js';
export { createApiLogger } from './logger.js';
export { apiService, runApi } from './api-service.js';
export {
  API_SCOPES,
  createApiKeySecret,
  hasScope,
  hashApiKey,
  isApiKeySecret,
  parseScopeList,
} from '@fieldproof/db'; // re-exported: the api's auth is where callers look for them
export { errorCatalogue, errors } from './errors/catalogue.js';
export { errorBody, toCataloguedError, type ErrorBody } from './errors/error-handler.js';
export type { RouteTypes } from './http/schemas.js';
export { ContentStore, type ContentStoreOptions } from './content/content-store.js';
export { KeyAuthenticator, type ApiPrincipal } from './auth/key-authenticator.js';
export { GroupCommitter } from './write/group-committer.js';
export { applyWrites } from './write/kysely-write-session.js';
export { createWriteExecutor } from './write/create-write-executor.js';
export type { WriteExecutor } from './write/write-executor.js';
export type { WriteRequest, WriteResult, WriteViolation } from './write/write-request.js';
// The console's session and page pieces, shared with the collector's console.
export {
  CONSOLE_SESSION_TTL_MS,
  SESSION_COOKIE,
  csrfMatches,
  csrfTokenOf,
  hashSessionToken,
  newSessionToken,
  sessionCookie,
  sessionTokenOf,
} from './console/console-session.js';
export { age, esc, num, page } from './console/html.js';
export {
  acceptFormPosts,
  consoleCsp,
  formField,
  redirectToConsole,
  sendPage,
} from './console/console-http.js';
