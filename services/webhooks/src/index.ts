export { createWebhooks, type Webhooks, type WebhooksDeps } from './webhooks.js';
export { optionsFromEnv, webhooksEnv, type WebhooksOptions } from './config.js';
export { signatureHeader, verifySignature, sign, SIGNATURE_HEADER } from './domain/signature.js';
