import type { RequestHandler } from 'express';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 document of the REST API, built from the same zod schemas that validate the
 * requests, so the document cannot drift from what the server accepts. Route modules describe
 * each route once, at load time, with `registerRoute`.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseDoc {
  description: string;
  /** Root key of the JSON body: `plan`, or `plans` for a list (which also carries `meta`). */
  root?: string;
  list?: boolean;
  /** Schema of the object under `root` (an object when omitted). */
  schema?: z.ZodType;
}

export interface RouteDoc {
  method: HttpMethod;
  /** Path under `/api/v1`, with OpenAPI placeholders: `/plans/{code}`. */
  path: string;
  summary: string;
  /** Group shown in the docs (defaults to the first path segment). */
  tag?: string;
  /** Root key of the JSON body (`billable_metric`), whose value `requestSchema` validates. */
  requestRoot?: string;
  requestSchema?: z.ZodType;
  query?: z.ZodObject;
  /** By status; a string is a description. 401 is added to every authenticated route. */
  responses: Record<number, string | ResponseDoc>;
  /** Default true: `Authorization: Bearer <api key>`. */
  auth?: boolean;
}

export const API_PREFIX = '/api/v1';

const registry = new Map<string, RouteDoc>();

/** Describes a route (idempotent: registering the same method and path again replaces it). */
export function registerRoute(doc: RouteDoc): void {
  registry.set(`${doc.method} ${doc.path}`, doc);
}

export function registeredRoutes(): RouteDoc[] {
  return [...registry.values()].sort((a, b) => a.path.localeCompare(b.path) || methodRank(a) - methodRank(b));
}

const METHOD_ORDER: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];
const methodRank = (doc: RouteDoc) => METHOD_ORDER.indexOf(doc.method);

export const tagOf = (doc: RouteDoc) => doc.tag ?? doc.path.split('/')[1] ?? 'api';

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 (what OpenAPI 3.1 uses) of what a client may send. */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

const errorSchema = (status: number, error: string, extra: Record<string, JsonSchema> = {}): JsonSchema => ({
  type: 'object',
  properties: {
    status: { type: 'integer', const: status },
    error: { type: 'string', examples: [error] },
    ...extra,
  },
  required: ['status', 'error', ...Object.keys(extra)],
});

const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  BadRequest: errorSchema(400, 'BadRequest: param is missing or the value is empty or invalid: plan'),
  Unauthorized: errorSchema(401, 'Unauthorized'),
  NotFound: errorSchema(404, 'Not Found', { code: { type: 'string', examples: ['customer_not_found'] } }),
  MethodNotAllowed: errorSchema(405, 'Method Not Allowed', { code: { type: 'string' } }),
  ValidationErrors: errorSchema(422, 'Unprocessable Entity', {
    code: { type: 'string', const: 'validation_errors' },
    error_details: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'string' } },
      examples: [{ code: ['value_already_exist'] }],
    },
  }),
  PaginationMeta: {
    type: 'object',
    properties: {
      current_page: { type: 'integer' },
      next_page: { type: ['integer', 'null'] },
      prev_page: { type: ['integer', 'null'] },
      total_pages: { type: 'integer' },
      total_count: { type: 'integer' },
    },
    required: ['current_page', 'next_page', 'prev_page', 'total_pages', 'total_count'],
  },
};

const ERROR_COMPONENT: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  422: 'ValidationErrors',
};

const jsonContent = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function responseObject(status: number, response: string | ResponseDoc): JsonSchema {
  const doc: ResponseDoc = typeof response === 'string' ? { description: response } : response;
  if (doc.root) {
    const item = doc.schema ? inputJsonSchema(doc.schema) : { type: 'object' };
    const properties: JsonSchema = { [doc.root]: doc.list ? { type: 'array', items: item } : item };
    if (doc.list) properties.meta = ref('PaginationMeta');
    return {
      description: doc.description,
      content: jsonContent({ type: 'object', properties, required: Object.keys(properties) }),
    };
  }
  const component = ERROR_COMPONENT[status];
  return component
    ? { description: doc.description, content: jsonContent(ref(component)) }
    : { description: doc.description };
}

function parameters(doc: RouteDoc): JsonSchema[] {
  const params: JsonSchema[] = [...doc.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc.query) {
    const json = inputJsonSchema(doc.query);
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
      const isArray = JSON.stringify(schema).includes('"type":"array"');
      // Lago's client sends arrays as repeated `name[]=` keys.
      params.push({ name: isArray ? `${name}[]` : name, in: 'query', required: required.has(name), schema });
    }
  }
  return params;
}

function operation(doc: RouteDoc): JsonSchema {
  const auth = doc.auth ?? true;
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    responses[status] = responseObject(Number(status), response);
  }
  if (auth && !responses['401']) responses['401'] = responseObject(401, 'Missing or unknown API key');
  const op: JsonSchema = {
    operationId: `${doc.method}${doc.path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    tags: [tagOf(doc)],
    parameters: parameters(doc),
    responses,
  };
  if (!auth) op.security = [];
  if (doc.requestRoot) {
    const inner = doc.requestSchema ? inputJsonSchema(doc.requestSchema) : { type: 'object' };
    op.requestBody = {
      required: true,
      content: jsonContent({
        type: 'object',
        properties: { [doc.requestRoot]: inner },
        required: [doc.requestRoot],
      }),
    };
  }
  return op;
}

export function buildOpenApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const doc of registeredRoutes()) {
    (paths[doc.path] ??= {})[doc.method] = operation(doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'prorata',
      version: 'v1',
      description:
        "Per-seat billing engine. The REST surface follows Lago's API, so lago-javascript-client works against " +
        `it unchanged: use \`${API_PREFIX}\` as its baseUrl.`,
    },
    servers: [{ url: API_PREFIX }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An organization API key' },
      },
      schemas: COMPONENT_SCHEMAS,
    },
  };
}

/** `GET /api/v1/openapi.json` (no authentication). */
export const openApiHandler: RequestHandler = (_req, res) => {
  res.json(buildOpenApiDocument());
};
