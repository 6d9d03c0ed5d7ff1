// Builds the OpenAPI 3.1 document of the driver contract from the JSON Schemas and ENDPOINTS, so
// vendors can generate a server stub in their language. The schemas stay the source: each becomes
// one component, unchanged except that `$id`/`$schema` go and every `$ref` points at a component
// (stub generators resolve `#/components/schemas/...`, rarely a schema's `$id`).
//
//   npx tsx harness/driver/openapi.ts > schemas/driver/openapi.json
//   npx biome format --write schemas/driver/openapi.json
//
// A test checks that the committed document is this output (as JSON, whatever the layout).

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Endpoint } from './contract.ts';
import { DRIVER_CONTRACT_VERSION, ENDPOINTS } from './contract.ts';
import { MAX_WAIT_MS } from './core.ts';
import type { DriverSchemaName } from './validate.ts';
import { COMMON_SCHEMA, DRIVER_SCHEMA_DIR, DRIVER_SCHEMAS, ENDPOINT_SCHEMAS } from './validate.ts';

type Json = { [k: string]: unknown };

/** `send-request` -> `SendRequest`, `media-fixture-name` -> `MediaFixtureName`. */
export function componentName(schemaOrDef: string): string {
  return schemaOrDef
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

const COMPONENTS = '#/components/schemas/';

const OPERATIONS: { readonly [E in Endpoint]: { readonly summary: string; readonly description: string } } = {
  manifest: {
    summary: 'What the candidate is',
    description:
      'Name, version, driver contract version, crypto profile and optional features. The harness refuses a ' +
      'contractVersion other than its own before it looks at the rest.',
  },
  reset: {
    summary: 'Back to a clean install',
    description:
      'Disconnect, and forget every key, session, message, block and event. The event log starts again at 1. ' +
      'Answer when the state is clean. Idempotent: the harness may repeat it after a connection failure.',
  },
  connect: {
    summary: 'Enlist if needed, log in, be ready',
    description:
      'Get a partner token for partner.sub from partner.tokenUrl, enlist at httpUrl when holding no identity, ' +
      'open wsUrl, log in, fetch the blocklist, upload keys at the first login, and answer once logged in.',
  },
  disconnect: {
    summary: 'Close the chat connection',
    description:
      'Close the connection cleanly and do not reconnect until the next connect; keep every state.',
  },
  send: {
    summary: 'The user sends a message',
    description:
      "Send the content as the app's user would; answer with the message id once the stanza is sent.",
  },
  read: {
    summary: 'The user saw (or played) messages',
    description:
      'Act as the app does when its user sees the messages: send the read (or played) receipts it sends.',
  },
  typing: {
    summary: 'The user starts or stops typing',
    description: 'Act as the app does when its user types (or records a voice note) in the chat, or stops.',
  },
  block: {
    summary: 'The user blocks a contact',
    description:
      'Block the address as the app does; answer when the server has confirmed the blocklist change.',
  },
  unblock: {
    summary: 'The user unblocks a contact',
    description:
      'Unblock the address as the app does; answer when the server has confirmed the blocklist change.',
  },
  events: {
    summary: 'What the app showed, long-polled',
    description:
      'Answer at once with the events after `after` when there are any; else wait up to `wait` ms for one and ' +
      'answer with it, or with none when the wait is over.',
  },
};

function readSchema(name: string): Json {
  return JSON.parse(readFileSync(new URL(`${name}.schema.json`, DRIVER_SCHEMA_DIR), 'utf8')) as Json;
}

/** A schema as a component: no `$id`/`$schema`, every `$ref` to a component. */
export function toComponent(schema: Json): Json {
  const { $id: _id, $schema: _schema, ...rest } = schema;
  return rewriteRefs(rest) as Json;
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => {
      if (k !== '$ref' || typeof v !== 'string') return [k, rewriteRefs(v)];
      const m = /^(?:common\.schema\.json)?#\/\$defs\/([a-z0-9-]+)$/.exec(v);
      if (!m?.[1]) throw new Error(`cannot map $ref ${v} to a component`);
      return [k, COMPONENTS + componentName(m[1])];
    }),
  );
}

const json = (name: DriverSchemaName) => ({
  'application/json': { schema: { $ref: COMPONENTS + componentName(name) } },
});

export function buildOpenApi(): Json {
  const schemas: Json = {};
  const add = (name: string, schema: Json) => {
    const key = componentName(name);
    if (Object.hasOwn(schemas, key)) throw new Error(`two schemas become component ${key}`);
    schemas[key] = toComponent(schema);
  };
  for (const name of DRIVER_SCHEMAS) add(name, readSchema(name));
  for (const [name, def] of Object.entries(readSchema(COMMON_SCHEMA).$defs as Record<string, Json>))
    add(name, def);

  const paths: Json = {};
  for (const [endpoint, { method, path }] of Object.entries(ENDPOINTS) as [
    Endpoint,
    (typeof ENDPOINTS)[Endpoint],
  ][]) {
    const { request, response } = ENDPOINT_SCHEMAS[endpoint];
    paths[path] = {
      [method.toLowerCase()]: {
        operationId: endpoint,
        ...OPERATIONS[endpoint],
        ...(endpoint === 'events' && { parameters: EVENTS_PARAMETERS }),
        ...(request && { requestBody: { required: true, content: json(request) } }),
        responses: {
          '200': { description: 'Done.', content: json(response) },
          default: { $ref: '#/components/responses/Error' },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'interop-cert driver contract',
      version: DRIVER_CONTRACT_VERSION,
      summary: 'The control API a candidate serves so the interop-cert harness can drive it.',
      description:
        'Served by the candidate over HTTP on a port the vendor chooses; the harness is given its base URL. ' +
        'docs/DRIVER.md explains every endpoint, the event log and the timeouts. Generated from ' +
        'schemas/driver/*.schema.json, which are authoritative.',
      license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
    },
    servers: [
      {
        url: 'http://127.0.0.1:{port}',
        description: "The candidate's driver, on loopback.",
        variables: { port: { default: '7000' } },
      },
    ],
    paths,
    components: {
      schemas,
      responses: {
        Error: {
          description: 'Every non-2xx answer: why the candidate could not do what was asked.',
          content: json('error-response'),
        },
      },
    },
  };
}

const EVENTS_PARAMETERS = [
  {
    name: 'after',
    in: 'query',
    required: true,
    description: 'Answer with the events whose seq is greater than this (0: from the start).',
    schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
  {
    name: 'wait',
    in: 'query',
    required: true,
    description: 'How long to wait for an event when there is none after `after`, ms.',
    schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS },
  },
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${JSON.stringify(buildOpenApi(), null, 2)}\n`);
}
