export { parseSecretKey, sealSecret, openSecret, SecretBoxError } from './secret-box.js';
export { hashPassword, verifyPassword, PASSWORD_HASH_OPTIONS } from './password.js';
