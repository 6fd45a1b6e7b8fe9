/** `countermeasures`: countermeasure deployments. */
export interface CountermeasureTable {
  id: string;
  operation_id: string;
  evidence_id: string;
  related_evidence_id: string | null;
  countermeasure_type: string;
  target: string | null;
  deployed_at: number;
  latitude: number | null;
  longitude: number | null;
  authorized_by: string | null;
  notes: string | null;
  created_at: number;
}

/** `signal_disruptions`: signal-disruption audits; `occurred_at` is the client's claim. */
export interface SignalDisruptionTable {
  id: string;
  operation_id: string | null;
  evidence_id: string;
  related_evidence_id: string | null;
  occurred_at: number;
  frequency_low_hz: number;
  frequency_high_hz: number;
  duration_ms: number;
  affected_systems: string | null;
  cause: string;
  notes: string | null;
  created_at: number;
}

/** `jamming_operations`: created at start, ended later with `ended_at` and `success_metric`. */
export interface JammingOperationTable {
  id: string;
  operation_id: string;
  evidence_id: string;
  end_evidence_id: string | null;
  related_evidence_id: string | null;
  frequency_low_hz: number;
  frequency_high_hz: number;
  power_dbm: number | null;
  target: string | null;
  authorized_by: string;
  started_at: number;
  ended_at: number | null;
  success_metric: number | null;
  created_at: number;
  updated_at: number;
}
