import { createHash, randomBytes } from 'node:crypto';

/** A write the api acknowledged (201): it must survive any later power cut. */
export interface Acknowledged {
  readonly id: string;
  readonly digest: string;
  /** Raw bytes uploaded (their file is in the content store) rather than a JSON digest record. */
  readonly upload: boolean;
}

export interface LoadOptions {
  /** `http://127.0.0.1:<port>` of the api. */
  readonly base: string;
  readonly apiKey: string;
  /** Concurrent clients posting JSON digest records. */
  readonly digestClients: number;
  /** Concurrent clients uploading raw bytes (application/octet-stream). */
  readonly uploadClients: number;
  /** Largest upload; each is 1 byte to this many, at random. */
  readonly maxUploadBytes: number;
}

export interface Load {
  /**
   * Stops every client once its request in flight has settled; resolves with what was acknowledged, and
   * any acknowledgement that did not match what was sent.
   */
  stop(): Promise<{ acknowledged: Acknowledged[]; anomalies: string[] }>;
}

class AcknowledgementMismatch extends Error {}

/**
 * Concurrent write load on the api until stopped. Only a 201 counts as acknowledged; any other answer
 * or a failed connection (the api is being killed) is retried after a short pause, never counted.
 */
export function startLoad(options: LoadOptions): Load {
  const acknowledged: Acknowledged[] = [];
  const anomalies: string[] = [];
  let stopped = false;
  const client = async (upload: boolean): Promise<void> => {
    while (!stopped) {
      try {
        const ack = upload ? await uploadBytes(options) : await postDigest(options);
        if (ack !== undefined) acknowledged.push(ack);
        else await pause(20);
      } catch (err) {
        if (err instanceof AcknowledgementMismatch) anomalies.push(err.message);
        await pause(50); // the api is down (cut, or not up yet)
      }
    }
  };
  const clients = [
    ...Array.from({ length: options.digestClients }, () => client(false)),
    ...Array.from({ length: options.uploadClients }, () => client(true)),
  ];
  return {
    async stop() {
      stopped = true;
      await Promise.all(clients);
      return { acknowledged, anomalies };
    },
  };
}

async function postDigest(options: LoadOptions): Promise<Acknowledged | undefined> {
  const digest = randomBytes(32).toString('hex');
  const res = await fetch(`${options.base}/v1/evidence`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ digest, kind: 'drill', occurredAt: Date.now() }),
    signal: AbortSignal.timeout(30_000),
  });
  return acknowledgement(res, digest, false);
}

async function uploadBytes(options: LoadOptions): Promise<Acknowledged | undefined> {
  const bytes = randomBytes(1 + Math.floor(Math.random() * options.maxUploadBytes));
  const digest = createHash('sha256').update(bytes).digest('hex');
  const res = await fetch(`${options.base}/v1/evidence?kind=drill-upload&occurredAt=${Date.now()}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/octet-stream' },
    body: bytes,
    signal: AbortSignal.timeout(30_000),
  });
  return acknowledgement(res, digest, true);
}

async function acknowledgement(
  res: Response,
  digest: string,
  upload: boolean,
): Promise<Acknowledged | undefined> {
  const body = (await res.json()) as { id?: string; digest?: string };
  if (res.status !== 201) return undefined;
  if (body.digest !== digest || typeof body.id !== 'string') {
    throw new AcknowledgementMismatch(`the api acknowledged ${digest} as ${JSON.stringify(body)}`);
  }
  return { id: body.id, digest, upload };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
