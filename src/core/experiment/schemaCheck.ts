/**
 * JSON-Schema validation (ajv) of a parsed experiment or run config, with ajv's errors turned
 * into one clear Issue each: the key path, the allowed values, and a "did you mean" for typos.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { EDITOR_KEYWORDS, experimentSchema, runConfigSchema, type JsonSchema } from './schema.js';
import { isPlainObject } from './merge.js';
import { closest } from './suggest.js';
import { dottedKey, type Issue, type Segment } from './locate.js';

interface Compiled {
  experiment: ValidateFunction;
  run: ValidateFunction;
  /** Section schemas with defaults, by name (`model`, `train`, …). */
  sections: Record<string, JsonSchema>;
}

let cache: Compiled | undefined;

/** ajv compiles the schemas on first use (a few milliseconds), then keeps them. */
function compiled(): Compiled {
  if (!cache) {
    const ajv = new Ajv({ allErrors: true, verbose: true });
    for (const keyword of EDITOR_KEYWORDS) ajv.addKeyword(keyword);
    const schema = experimentSchema();
    const sections = Object.fromEntries(
      Object.entries(schema.definitions as Record<string, JsonSchema>).filter(([name]) => !name.endsWith('_override') && name !== 'variant'),
    );
    cache = { experiment: ajv.compile(schema), run: ajv.compile(runConfigSchema()), sections };
  }
  return cache;
}

/** Schema issues of an experiment file's data (`doc.toJS()`), in document order of ajv. */
export function experimentSchemaIssues(data: unknown): Issue[] {
  return schemaIssues(compiled().experiment, data);
}

/** Schema issues of a run's resolved config.yaml. */
export function runConfigSchemaIssues(data: unknown): Issue[] {
  return schemaIssues(compiled().run, data);
}

function schemaIssues(validate: ValidateFunction, data: unknown): Issue[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // A value of the wrong type also fails its enum/bounds: report the type only.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword === 'type' || !wrongType.has(e.instancePath))
    .flatMap((e) => issuesOf(e, data));
}

function pathOf(pointer: string, data: unknown): Segment[] {
  if (pointer === '') return [];
  const path: Segment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step: Segment = Array.isArray(node) ? Number(seg) : seg;
    path.push(step);
    node = (node as Record<Segment, unknown> | undefined)?.[step];
  }
  return path;
}

function valueAt(data: unknown, path: Segment[]): unknown {
  return path.reduce<unknown>((node, seg) => (node as Record<Segment, unknown> | undefined)?.[seg], data);
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** Words YAML 1.1 read as booleans; YAML 1.2 (what we parse) reads them as strings. */
const YAML11_BOOLEANS = /^(y|yes|n|no|on|off)$/i;

/** How a value the user wrote is named in a message. */
function describeValue(x: unknown): string {
  if (x === null) return 'an empty value (null)';
  if (Array.isArray(x)) return 'a list';
  if (isPlainObject(x)) return 'a mapping';
  if (typeof x === 'string') return `the string ${JSON.stringify(x)}`;
  return String(x);
}

function issuesOf(e: ErrorObject, data: unknown): Issue[] {
  const path = pathOf(e.instancePath, data);
  const value = valueAt(data, path);
  const error = (message: string, at: Issue['at'] = 'value', where: Segment[] = path): Issue => ({
    path: where,
    at,
    message,
    severity: 'error',
  });
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return [error(`missing required key \`${String(p.missingProperty)}\``, 'key', [...path, String(p.missingProperty)])];
    case 'additionalProperties':
      return [unknownKey(path, String(p.additionalProperty), e.parentSchema as JsonSchema)];
    case 'type': {
      const types = ([] as string[]).concat(p.type as string | string[]);
      const hint = types.includes('boolean') && typeof value === 'string' && YAML11_BOOLEANS.test(value) ? ' (YAML 1.2 reads only true and false as booleans)' : '';
      return [error(`must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}, found ${describeValue(value)}${hint}`)];
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => (v === null ? 'null' : String(v)));
      const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
      const hint = guess ? `; did you mean \`${guess}\`?` : '';
      return [error(`must be one of ${allowed.join(', ')}; found ${describeValue(value)}${hint}`)];
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return [error(`must be ${String(p.comparison)} ${String(p.limit)}, found ${describeValue(value)}`)];
    case 'minLength':
      // propertyNames: the offending name is a key of this object (here: an ablation variant).
      if (e.propertyName !== undefined) return [error('variant name must not be empty', 'key', [...path, e.propertyName])];
      return [error('must not be empty')];
    case 'minItems':
      return [error(`must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`)];
    case 'uniqueItems':
      return duplicateItems(path, value as unknown[]);
    case 'propertyNames':
      return []; // reported by the inner keyword (minLength) with the name's own position
    default:
      return [error(e.message ?? `fails ${e.keyword}`)];
  }
}

/** Every item equal to an earlier one, at its own position. */
function duplicateItems(path: Segment[], items: unknown[]): Issue[] {
  return items.flatMap((item, i) => {
    const first = items.indexOf(item);
    if (first === i) return [];
    const message = `duplicate ${describeValue(item)} (already at position ${first + 1})`;
    return [{ path: [...path, i], at: 'value' as const, message, severity: 'error' as const }];
  });
}

/** `unknown key … in …; did you mean …?`, or where the key belongs when it is in another section. */
function unknownKey(path: Segment[], key: string, parentSchema: JsonSchema): Issue {
  const allowed = Object.keys((parentSchema.properties as JsonSchema | undefined) ?? {});
  const where = path.length ? ` in \`${dottedKey(path)}\`` : '';
  const [head, ...rest] = key.split('.');
  const guess = closest(key, allowed);
  const home = guess ? undefined : sectionHolding(key, path);
  const hint =
    rest.length && allowed.includes(head)
      ? `; write it nested: \`${head}: { ${rest.join(': { ')}: …${' }'.repeat(rest.length)}\``
      : guess
        ? `; did you mean \`${guess}\`?`
        : home
          ? `; it belongs in \`${home}\``
          : `; allowed: ${allowed.join(', ')}`;
  return { path: [...path, key], at: 'key', message: `unknown key \`${key}\`${where}${hint}`, severity: 'error' };
}

/** The section (`train`, `data.task_options`, …) that defines `key`, when the user put it elsewhere. */
function sectionHolding(key: string, path: Segment[]): string | undefined {
  const variantPrefix = path[0] === 'ablations' && path.length >= 2 ? `ablations.${String(path[1])}.` : '';
  for (const [name, def] of Object.entries(compiled().sections)) {
    const props = def.properties as Record<string, JsonSchema>;
    if (key in props) return variantPrefix + name;
    for (const [sub, subSchema] of Object.entries(props)) {
      const subProps = subSchema.properties as Record<string, JsonSchema> | undefined;
      if (subProps && key in subProps) return `${variantPrefix}${name}.${sub}`;
    }
  }
  return undefined;
}
