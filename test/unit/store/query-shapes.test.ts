/**
 * Every query the code issues to MongoDB has an index on real MongoDB (docs/scaling.md, "What a
 * user's real MongoDB needs"). Reads the TypeScript source of the layers that talk to MongoDB,
 * finds each find/findOne/update/delete/count call and each `findPage`, resolves its collection
 * (`customers(db)`, `db.collection('x')`, a const holding one) and the top-level fields of its
 * filter and sort, and checks that a declared index serves it: the `_id` index when `_id` is an
 * equality or range of the filter, otherwise an index of `src/store/*.ts` whose first field the
 * filter constrains (or, for a filter-less sort, whose first field is the sort's).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..', '..');
const LAYERS = ['src/store', 'api', 'api/routes', 'activities', 'worker'];
/** One-time scans at start-up, by design (src/store/migrations.ts). */
const EXEMPT_FILES = new Set(['src/store/migrations.ts']);
const QUERY_METHODS = new Set([
  'find',
  'findOne',
  'findOneAndUpdate',
  'updateOne',
  'updateMany',
  'deleteOne',
  'deleteMany',
  'countDocuments',
]);

interface QueryShape {
  where: string;
  collection: string;
  fields: string[];
  sort: string[];
}

function sourceFiles(): { path: string; file: ts.SourceFile }[] {
  return LAYERS.flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => {
        const path = `${dir}/${f}`;
        const text = readFileSync(join(ROOT, path), 'utf8');
        return { path, file: ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true) };
      }),
  );
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const stringArg = (call: ts.CallExpression): string | null => {
  const first = call.arguments[0];
  return first && ts.isStringLiteral(first) ? first.text : null;
};

const isCollectionCall = (e: ts.Expression): e is ts.CallExpression =>
  ts.isCallExpression(e) &&
  ts.isPropertyAccessExpression(e.expression) &&
  e.expression.name.text === 'collection' &&
  stringArg(e) !== null;

/** Function and const names that return a collection, across all files: `customers` -> 'customers'. */
function collectionAccessors(files: { file: ts.SourceFile }[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { file } of files) {
    walk(file, (n) => {
      let name: string | undefined;
      let body: ts.Node | undefined;
      if (ts.isFunctionDeclaration(n) && n.name) [name, body] = [n.name.text, n.body];
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
        const init = n.initializer;
        if (ts.isArrowFunction(init)) [name, body] = [n.name.text, init.body];
      }
      if (!name || !body) return;
      let found: string | null = null;
      walk(body, (inner) => {
        if (ts.isExpression(inner) && isCollectionCall(inner)) found ??= stringArg(inner);
      });
      if (found) names.set(name, found);
    });
  }
  return names;
}

function collectionOf(e: ts.Expression, accessors: Map<string, string>, locals: Map<string, string>) {
  if (isCollectionCall(e)) return stringArg(e);
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression))
    return accessors.get(e.expression.text) ?? null;
  if (ts.isIdentifier(e)) return locals.get(e.text) ?? null;
  return null;
}

/** Top-level keys of an object literal; `$or`/`$and` branches contribute the keys they share. */
function literalKeys(obj: ts.ObjectLiteralExpression): string[] {
  const keys: string[] = [];
  for (const p of obj.properties) {
    if (ts.isShorthandPropertyAssignment(p)) keys.push(p.name.text);
    if (!ts.isPropertyAssignment(p)) continue;
    const key = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : null;
    if (!key) continue;
    if ((key === '$or' || key === '$and') && ts.isArrayLiteralExpression(p.initializer)) {
      const branches = p.initializer.elements.filter(ts.isObjectLiteralExpression).map(literalKeys);
      const common = branches[0]?.filter((k) => branches.every((b) => b.includes(k))) ?? [];
      keys.push(...common);
      continue;
    }
    keys.push(key);
  }
  return keys;
}

/** The fields of a filter argument: a literal, or a local const built from a literal plus `f.x = …`. */
function filterFields(arg: ts.Expression | undefined, scope: ts.Node): string[] | null {
  if (!arg) return [];
  if (ts.isObjectLiteralExpression(arg)) return literalKeys(arg);
  if (!ts.isIdentifier(arg)) return null;
  let fields: string[] | null = null;
  walk(scope, (n) => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === arg.text && n.initializer) {
      if (ts.isObjectLiteralExpression(n.initializer)) fields = literalKeys(n.initializer);
    }
  });
  if (!fields) return null;
  const result: string[] = fields;
  walk(scope, (n) => {
    if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(n.left) &&
      ts.isIdentifier(n.left.expression) &&
      n.left.expression.text === arg.text
    )
      result.push(n.left.name.text);
  });
  return result;
}

function enclosingFunction(n: ts.Node): ts.Node {
  let at: ts.Node = n;
  while (at.parent && !ts.isSourceFile(at.parent)) {
    at = at.parent;
    if (ts.isFunctionLike(at)) return at;
  }
  return at.parent ?? at;
}

/** `.sort({...})` chained on a find call, or `{ sort: {...} }` in its options. */
function sortFields(call: ts.CallExpression): string[] {
  let at: ts.Node = call;
  while (ts.isPropertyAccessExpression(at.parent) && ts.isCallExpression(at.parent.parent)) {
    const chained = at.parent.parent;
    if (
      at.parent.name.text === 'sort' &&
      chained.arguments[0] &&
      ts.isObjectLiteralExpression(chained.arguments[0])
    )
      return literalKeys(chained.arguments[0]);
    at = chained;
  }
  const options = call.arguments[1];
  if (options && ts.isObjectLiteralExpression(options)) {
    for (const p of options.properties)
      if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'sort')
        if (ts.isObjectLiteralExpression(p.initializer)) return literalKeys(p.initializer);
  }
  return [];
}

function queryShapes(files: { path: string; file: ts.SourceFile }[], accessors: Map<string, string>) {
  const shapes: QueryShape[] = [];
  const unresolved: string[] = [];
  for (const { path, file } of files) {
    if (EXEMPT_FILES.has(path)) continue;
    const locals = new Map<string, string>();
    walk(file, (n) => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
        const c = collectionOf(n.initializer, accessors, locals);
        if (c) locals.set(n.name.text, c);
      }
    });
    walk(file, (n) => {
      if (!ts.isCallExpression(n)) return;
      const where = `${path}:${file.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
      // findPage(collection, filter, page): sorted by created_at, _id (api/pagination.ts).
      if (ts.isIdentifier(n.expression) && n.expression.text === 'findPage' && n.arguments.length === 3) {
        const collection = collectionOf(n.arguments[0]!, accessors, locals);
        const fields = filterFields(n.arguments[1], enclosingFunction(n));
        if (!collection || !fields) unresolved.push(where);
        else shapes.push({ where, collection, fields, sort: ['created_at', '_id'] });
        return;
      }
      if (!ts.isPropertyAccessExpression(n.expression) || !QUERY_METHODS.has(n.expression.name.text)) return;
      const first = n.arguments[0];
      if (first && (ts.isArrowFunction(first) || ts.isFunctionExpression(first))) return; // Array#find
      const collection = collectionOf(n.expression.expression, accessors, locals);
      if (!collection) {
        if (first && ts.isObjectLiteralExpression(first)) unresolved.push(where);
        return;
      }
      const fields = filterFields(first, enclosingFunction(n));
      if (!fields) unresolved.push(where);
      else shapes.push({ where, collection, fields, sort: sortFields(n) });
    });
  }
  return { shapes, unresolved };
}

/** `X(db).createIndex({ a: 1, b: 1 })` and `db.collection('x').createIndex(...)`: first fields per collection. */
function declaredIndexes(files: { path: string; file: ts.SourceFile }[], accessors: Map<string, string>) {
  const indexes: { collection: string; keys: string[] }[] = [];
  for (const { path, file } of files) {
    if (!path.startsWith('src/store/')) continue;
    walk(file, (n) => {
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        n.expression.name.text === 'createIndex' &&
        n.arguments[0] &&
        ts.isObjectLiteralExpression(n.arguments[0])
      ) {
        const collection = collectionOf(n.expression.expression, accessors, new Map());
        if (collection) indexes.push({ collection, keys: literalKeys(n.arguments[0]) });
      }
    });
  }
  return indexes;
}

describe('query shapes and the indexes declared for real MongoDB', () => {
  const files = sourceFiles();
  const accessors = collectionAccessors(files);
  const { shapes, unresolved } = queryShapes(files, accessors);
  const indexes = declaredIndexes(files, accessors);

  it('finds the queries of the store layer, the API and the activities', () => {
    expect(shapes.length).toBeGreaterThan(80);
    expect(indexes.length).toBeGreaterThan(20);
    expect(shapes.some((s) => s.collection === 'keys' && s.fields.includes('_id'))).toBe(true);
    expect(unresolved).toEqual([]);
  });

  it('serves every query shape from a declared index (or _id)', () => {
    const unserved = shapes
      .filter((s) => {
        if (s.fields.includes('_id')) return false;
        const firsts = indexes.filter((i) => i.collection === s.collection).map((i) => i.keys[0]);
        if (s.fields.length === 0) return s.sort.length === 0 || !firsts.includes(s.sort[0]);
        return !s.fields.some((f) => firsts.includes(f));
      })
      .map((s) => `${s.where} ${s.collection} {${s.fields.join(', ')}} sort {${s.sort.join(', ')}}`);
    expect(unserved).toEqual([]);
  });
});
