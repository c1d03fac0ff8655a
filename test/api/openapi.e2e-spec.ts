import { readFileSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { startTestApp, TestApp } from '../support/harness';

// The generator of the client's types (openapi-typescript), shared with `npm run openapi:client`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator = require('../../scripts/openapi-client.cjs') as {
  schemaSource(doc: unknown): Promise<string>;
  DOCUMENT: string;
  SCHEMA: string;
};

const REGENERATE = 'Run `npm run openapi` to rewrite openapi.json and the client, then review and commit the change.';
/** `npm run openapi` runs this suite with UPDATE_OPENAPI=1: the served document is written, not compared. */
const UPDATE = process.env.UPDATE_OPENAPI === '1';

interface Operation {
  operationId?: string;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const serialize = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

function operations(doc: Doc): { route: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );
}

describe('the OpenAPI document (API.md 14)', () => {
  let t: TestApp;
  let served: Doc;
  beforeAll(async () => {
    t = await startTestApp();
    served = (await request(t.url).get('/docs-json').expect(200)).body as Doc;
  });
  afterAll(() => t.close());

  it('is the committed openapi.json', () => {
    if (UPDATE) {
      writeFileSync(generator.DOCUMENT, serialize(served));
      return;
    }
    const committed = readFileSync(generator.DOCUMENT, 'utf8');
    const same = committed === serialize(served);
    if (!same) {
      const before = new Map(operations(JSON.parse(committed) as Doc).map((o) => [o.route, JSON.stringify(o.op)]));
      const now = new Map(operations(served).map((o) => [o.route, JSON.stringify(o.op)]));
      const added = [...now.keys()].filter((r) => !before.has(r));
      const removed = [...before.keys()].filter((r) => !now.has(r));
      const changed = [...now.keys()].filter((r) => before.has(r) && before.get(r) !== now.get(r));
      throw new Error(
        `The served /docs-json differs from the committed openapi.json` +
          (added.length ? `; new operations: ${added.join(', ')}` : '') +
          (removed.length ? `; gone: ${removed.join(', ')}` : '') +
          (changed.length ? `; changed: ${changed.join(', ')}` : '') +
          `. ${REGENERATE}`,
      );
    }
  });

  it('names every operation with a stable, unique, dotted operationId', () => {
    const ops = operations(served);
    expect(ops.length).toBeGreaterThan(90);
    const missing = ops.filter((o) => !o.op.operationId).map((o) => o.route);
    expect(missing).toEqual([]);
    const badlyNamed = ops
      .filter((o) => !/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/.test(o.op.operationId ?? ''))
      .map((o) => `${o.route}: ${o.op.operationId}`);
    expect(badlyNamed).toEqual([]);
    const seen = new Map<string, string>();
    const duplicates: string[] = [];
    for (const o of ops) {
      const id = o.op.operationId as string;
      if (seen.has(id)) duplicates.push(`${id}: ${seen.get(id)} and ${o.route}`);
      seen.set(id, o.route);
    }
    expect(duplicates).toEqual([]);
  });

  it('gives every operation a success and an error answer, and a typed schema to every answer that has a body', () => {
    const problems: string[] = [];
    for (const { route, op } of operations(served)) {
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((s) => /^[23]\d\d$/.test(s))) problems.push(`${route}: no success answer`);
      if (!statuses.some((s) => /^[45]\d\d$/.test(s))) problems.push(`${route}: no error answer`);
      for (const [status, answer] of Object.entries(op.responses ?? {})) {
        // 204 No Content, the redirects of single sign-on and an answer documented "(no body)" have no body.
        if (status === '204' || /^3\d\d$/.test(status) || /\(no body\)/.test(answer.description ?? '')) continue;
        const schema = answer.content?.['application/json']?.schema ?? Object.values(answer.content ?? {})[0]?.schema;
        if (!schema) problems.push(`${route}: ${status} without a schema`);
        // An example alone types nothing: a generated client would see `unknown`.
        else if (!['$ref', 'type', 'oneOf', 'allOf', 'anyOf', 'items'].some((k) => k in (schema as object))) {
          problems.push(`${route}: ${status} has only an example, no schema`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the typed client (clients/typescript)', () => {
  it('has the types that openapi-typescript makes of the committed openapi.json', async () => {
    const expected = await generator.schemaSource(JSON.parse(readFileSync(generator.DOCUMENT, 'utf8')));
    if (UPDATE) {
      writeFileSync(generator.SCHEMA, expected);
      return;
    }
    if (readFileSync(generator.SCHEMA, 'utf8') !== expected) {
      throw new Error(
        `clients/typescript/src/schema.ts is not generated from the committed openapi.json. ${REGENERATE}`,
      );
    }
  });
});
