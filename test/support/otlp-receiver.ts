import { createServer, Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/**
 * A small OTLP/HTTP trace receiver for the tests: it accepts `POST /v1/traces` in protobuf (the
 * exporter's default), keeps each raw body, and decodes the spans with a reader of the protobuf wire
 * format written here for the few messages of opentelemetry/proto/trace/v1 that a test looks at.
 */
export type AnyValue = string | number | boolean | Buffer | AnyValue[] | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, AnyValue>;
  events: { name: string; attributes: Record<string, AnyValue> }[];
  scope: string;
}

interface Field {
  no: number;
  wire: number;
  value: bigint | Buffer;
}

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 1) {
      yield { no, wire, value: buf.subarray(pos, pos + 8) };
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5) {
      yield { no, wire, value: buf.subarray(pos, pos + 4) };
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

const bytes = (f: Field) => f.value as Buffer;
const text = (f: Field) => bytes(f).toString('utf8');

function anyValue(buf: Buffer): AnyValue {
  for (const f of fields(buf)) {
    if (f.no === 1) return text(f);
    if (f.no === 2) return (f.value as bigint) !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) return bytes(f).readDoubleLE(0);
    if (f.no === 5) return [...fields(bytes(f))].filter((x) => x.no === 1).map((x) => anyValue(bytes(x)));
    if (f.no === 7) return bytes(f);
  }
  return null;
}

function keyValues(list: Field[]): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  for (const kv of list) {
    let key = '';
    let value: AnyValue = null;
    for (const f of fields(bytes(kv))) {
      if (f.no === 1) key = text(f);
      if (f.no === 2) value = anyValue(bytes(f));
    }
    out[key] = value;
  }
  return out;
}

function span(buf: Buffer, scope: string): ReceivedSpan {
  const s: ReceivedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    attributes: {},
    events: [],
    scope,
  };
  const attributes: Field[] = [];
  for (const f of fields(buf)) {
    if (f.no === 1) s.traceId = bytes(f).toString('hex');
    else if (f.no === 2) s.spanId = bytes(f).toString('hex');
    else if (f.no === 4) s.parentSpanId = bytes(f).toString('hex');
    else if (f.no === 5) s.name = text(f);
    else if (f.no === 6) s.kind = Number(f.value as bigint);
    else if (f.no === 9) attributes.push(f);
    else if (f.no === 11) {
      let name = '';
      const eventAttributes: Field[] = [];
      for (const e of fields(bytes(f))) {
        if (e.no === 2) name = text(e);
        if (e.no === 3) eventAttributes.push(e);
      }
      s.events.push({ name, attributes: keyValues(eventAttributes) });
    }
  }
  s.attributes = keyValues(attributes);
  return s;
}

/** ExportTraceServiceRequest → ResourceSpans (1) → ScopeSpans (2) → Span (2), with the scope's name. */
export function decodeTraces(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of fields(body)) {
    if (rs.no !== 1) continue;
    for (const ss of fields(bytes(rs))) {
      if (ss.no !== 2) continue;
      let scope = '';
      const raw: Buffer[] = [];
      for (const f of fields(bytes(ss))) {
        if (f.no === 1) for (const sf of fields(bytes(f))) if (sf.no === 1) scope = text(sf);
        if (f.no === 2) raw.push(bytes(f));
      }
      spans.push(...raw.map((b) => span(b, scope)));
    }
  }
  return spans;
}

export class OtlpReceiver {
  readonly bodies: Buffer[] = [];
  readonly contentTypes: string[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        this.bodies.push(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
        this.contentTypes.push(String(req.headers['content-type']));
        // An empty ExportTraceServiceResponse: all accepted.
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  spans(): ReceivedSpan[] {
    return this.bodies.flatMap(decodeTraces);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
