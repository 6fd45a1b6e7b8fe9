import type { SortOrder } from './keyset.js';

/** The list filter shared by the operational-record tables: a time range on each table's own time column. */
export interface RecordListFilter {
  readonly order: SortOrder;
  readonly limit: number;
  readonly after?: { readonly key: number; readonly id: string } | undefined;
  readonly operationId?: string | undefined;
  /** Inclusive lower bound on the table's time column (ms). */
  readonly from?: number | undefined;
  /** Exclusive upper bound on the table's time column (ms). */
  readonly to?: number | undefined;
}
