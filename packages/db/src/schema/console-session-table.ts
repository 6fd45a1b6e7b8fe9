/** `console_sessions` (migration 0009): a console sign-in; only SHA-256 of the cookie secret is stored. */
export interface ConsoleSessionTable {
  token_hash: string;
  key_id: string;
  created_at: number;
  expires_at: number;
}
