import type { RequestHandler } from 'express';
import { API_PREFIX, inputJsonSchema, registeredRoutes, tagOf, type RouteDoc } from './openapi';

/**
 * `GET /docs`: a plain HTML page listing every route, its request root and fields, its query
 * parameters and its answers. Built from the same registry as `/api/v1/openapi.json`; no scripts,
 * styles or fonts from elsewhere.
 */

type JsonSchema = Record<string, unknown>;

interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  notes: string;
}

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Descriptions use `backticks` for names, shown as code. */
const prose = (value: string) => escapeHtml(value).replace(/`([^`]+)`/g, '<code>$1</code>');

const LONG_ENUM = 12;

function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) {
    const values = schema.enum as unknown[];
    if (values.length > LONG_ENUM) return `one of ${values.length} strings (see openapi.json)`;
    return values.map((v) => JSON.stringify(v)).join(' | ');
  }
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (variants) return variants.map(typeOf).join(' | ');
  const type = schema.type;
  if (Array.isArray(type)) return type.join(' | ');
  if (type === 'array') return `${typeOf((schema.items ?? {}) as JsonSchema)}[]`;
  if (typeof type === 'string') return type;
  return 'any';
}

function notesOf(schema: JsonSchema): string {
  const notes: string[] = [];
  if (typeof schema.description === 'string') notes.push(schema.description);
  if (typeof schema.minimum === 'number') notes.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === 'number') notes.push(`≤ ${schema.maximum}`);
  if (typeof schema.maxItems === 'number') notes.push(`at most ${schema.maxItems} items`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes.join('; ');
}

/** The object schema inside a (possibly nullable) field, to list its own fields. */
function objectWithin(schema: JsonSchema): JsonSchema | undefined {
  if (schema.type === 'object' && schema.properties) return schema;
  if (schema.type === 'array' && schema.items) return objectWithin(schema.items as JsonSchema);
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return variants?.map(objectWithin).find((s) => s !== undefined);
}

function fieldRows(schema: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const rows: FieldRow[] = [];
  for (const [name, field] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    rows.push({ name: path, type: typeOf(field), required: required.has(name), notes: notesOf(field) });
    const inner = objectWithin(field);
    if (inner && depth < 2) {
      const isList = typeOf(field).includes('[]');
      rows.push(...fieldRows(inner, `${path}${isList ? '[]' : ''}.`, depth + 1));
    }
  }
  return rows;
}

function fieldTable(rows: FieldRow[]): string {
  if (rows.length === 0) return '<p><em>none</em></p>';
  const body = rows
    .map(
      (r) =>
        `<tr><td><code>${escapeHtml(r.name)}</code></td><td>${escapeHtml(r.type)}</td>` +
        `<td>${r.required ? 'required' : ''}</td><td>${escapeHtml(r.notes)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>field</th><th>type</th><th></th><th>notes</th></tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function routeSection(doc: RouteDoc): string {
  const parts = [
    `<section id="${escapeHtml(`${doc.method}-${doc.path}`)}">`,
    `<h3><span class="method">${doc.method.toUpperCase()}</span> <code>${escapeHtml(API_PREFIX + doc.path)}</code></h3>`,
    `<p>${prose(doc.summary)}${doc.auth === false ? ' (no authentication)' : ''}</p>`,
  ];
  if (doc.query) {
    parts.push('<h4>Query parameters</h4>', fieldTable(fieldRows(inputJsonSchema(doc.query))));
  }
  if (doc.requestRoot) {
    parts.push(`<h4>Body: <code>{"${escapeHtml(doc.requestRoot)}": {...}}</code></h4>`);
    parts.push(fieldTable(doc.requestSchema ? fieldRows(inputJsonSchema(doc.requestSchema)) : []));
  }
  const answers = Object.entries(doc.responses).map(([status, r]) => {
    const d = typeof r === 'string' ? { description: r } : r;
    const root = d.root
      ? ` <code>{"${escapeHtml(d.root)}": ${d.list ? '[...], "meta": {...}' : '{...}'}}</code>`
      : '';
    return `<li><strong>${status}</strong> ${prose(d.description)}${root}</li>`;
  });
  parts.push('<h4>Answers</h4>', `<ul>${answers.join('')}</ul>`, '</section>');
  return parts.join('\n');
}

export function renderDocsPage(): string {
  const routes = registeredRoutes();
  const tags = [...new Set(routes.map(tagOf))];
  const toc = tags
    .map((tag) => {
      const items = routes
        .filter((r) => tagOf(r) === tag)
        .map(
          (r) =>
            `<li><a href="#${escapeHtml(`${r.method}-${r.path}`)}">${r.method.toUpperCase()} ${escapeHtml(r.path)}</a></li>`,
        )
        .join('');
      return `<li>${escapeHtml(tag)}<ul>${items}</ul></li>`;
    })
    .join('');
  const sections = tags
    .map(
      (tag) =>
        `<h2>${escapeHtml(tag)}</h2>\n${routes
          .filter((r) => tagOf(r) === tag)
          .map(routeSection)
          .join('\n')}`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>prorata API</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
section { border-top: 1px solid #ddd; padding-top: 0.5rem; }
.method { font-family: monospace; background: #eee; padding: 0 0.3rem; }
</style>
</head>
<body>
<h1>prorata API</h1>
<p>Lago-compatible REST API under <code>${API_PREFIX}</code>: point <code>lago-javascript-client</code> at
<code>http://&lt;host&gt;:&lt;port&gt;${API_PREFIX}</code>. Every call but this page and
<a href="${API_PREFIX}/openapi.json"><code>${API_PREFIX}/openapi.json</code></a> needs
<code>Authorization: Bearer &lt;api key&gt;</code>. Every success is a 200; errors are Lago's bodies
(<code>{"status":422,"error":"Unprocessable Entity","code":"validation_errors","error_details":{...}}</code>).</p>
<ul>${toc}</ul>
${sections}
</body>
</html>
`;
}

/** `GET /docs`. */
export const docsHandler: RequestHandler = (_req, res) => {
  res.type('html').send(renderDocsPage());
};
