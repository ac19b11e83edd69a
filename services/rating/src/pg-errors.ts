// Postgres errors that say whether a retry can help: moved to libs/db (routing uses them too).
export { StoreError, store } from '@smshub/db';
