import type { AlertRecord, AlertSeverity, AlertStatus, CounterSample, OwedNotice } from '../ports/alert-state.js';

/** The alert state's tables, as SQLite and PostgreSQL both hold them (same columns; ms timestamps as integers). */
export const ALERT_TABLES = (integer: 'INTEGER' | 'BIGINT'): string => `
  CREATE TABLE alert_states (
    key TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    since ${integer} NOT NULL,
    fired_at ${integer},
    last_notified_at ${integer},
    resolved_at ${integer},
    updated_at ${integer} NOT NULL,
    version ${integer} NOT NULL,
    notice TEXT
  );
  CREATE TABLE alert_counters (
    node_id TEXT NOT NULL,
    at ${integer} NOT NULL,
    node_name TEXT NOT NULL,
    processed ${integer} NOT NULL,
    failed ${integer} NOT NULL,
    PRIMARY KEY (node_id, at)
  );
  CREATE INDEX alert_counters_by_time ON alert_counters (at);
`;

export interface AlertRow {
  key: string;
  rule: string;
  subject: string;
  severity: string;
  status: string;
  message: string;
  since: number;
  fired_at: number | null;
  last_notified_at: number | null;
  resolved_at: number | null;
  updated_at: number;
  version: number;
  notice: string | null;
}

export interface CounterRow {
  node_id: string;
  node_name: string;
  at: number;
  processed: number;
  failed: number;
}

/** The row's values in column order (key first), for INSERT and UPDATE. */
export function rowValues(record: AlertRecord): (string | number | null)[] {
  return [
    record.key,
    record.rule,
    record.subject,
    record.severity,
    record.status,
    record.message,
    record.since,
    record.firedAt ?? null,
    record.lastNotifiedAt ?? null,
    record.resolvedAt ?? null,
    record.updatedAt,
    record.version,
    record.notice === undefined ? null : JSON.stringify(record.notice),
  ];
}

export const ALERT_COLUMNS = ['key', 'rule', 'subject', 'severity', 'status', 'message', 'since', 'fired_at', 'last_notified_at', 'resolved_at', 'updated_at', 'version', 'notice'] as const;

export function toRecord(row: AlertRow): AlertRecord {
  const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } => (value === null ? {} : ({ [key]: value } as { [P in K]?: V }));
  return {
    key: row.key,
    rule: row.rule,
    subject: row.subject,
    severity: row.severity as AlertSeverity,
    status: row.status as AlertStatus,
    message: row.message,
    since: Number(row.since),
    ...optional('firedAt', row.fired_at === null ? null : Number(row.fired_at)),
    ...optional('lastNotifiedAt', row.last_notified_at === null ? null : Number(row.last_notified_at)),
    ...optional('resolvedAt', row.resolved_at === null ? null : Number(row.resolved_at)),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
    ...optional('notice', row.notice === null ? null : (JSON.parse(row.notice) as OwedNotice)),
  };
}

export function toSample(row: CounterRow): CounterSample {
  return { nodeId: row.node_id, nodeName: row.node_name, at: Number(row.at), processed: Number(row.processed), failed: Number(row.failed) };
}
