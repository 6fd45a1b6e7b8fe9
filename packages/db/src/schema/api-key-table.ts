export type ApiScope = 'read' | 'write' | 'admin';

/** `api_keys`: only SHA-256 of the secret is stored; `scopes` is comma-separated. */
export interface ApiKeyTable {
  id: string;
  key_hash: string;
  label: string | null;
  scopes: string;
  created_at: number;
  revoked_at: number | null;
}
