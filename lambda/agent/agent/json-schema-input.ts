/**
 * A plain JSON Schema as a tool's input schema: checked to describe an
 * object, and validated with @cfworker/json-schema (a small validator
 * without code generation, which Lambda's init favours). Its Validator class
 * is given by the caller: tool-schema.ts imports it with the rest (a user's
 * agent bundle, synthesis), the runtime's handler only when its agent has
 * tools of plain JSON Schema (Lambda tools, MCP tools), from a chunk of its
 * own, so that a runtime without them never loads it.
 */
export type JsonSchema = Record<string, unknown>;

/**
 * What this module uses of @cfworker/json-schema's Validator class (its
 * CommonJS and ESM declarations, each a class of its own to TypeScript, both fit).
 */
export type JsonSchemaValidator = new (schema: never, draft: '7', shortCircuit: boolean) => SchemaValidator;

interface SchemaValidator {
  validate(input: unknown): { valid: boolean; errors: Array<{ keyword: string; instanceLocation: string; error: string }> };
}

export type ValidationResult = { ok: true; value: unknown } | { ok: false; message: string };

export interface NormalizedSchema {
  jsonSchema: JsonSchema;
  validate(input: unknown): Promise<ValidationResult>;
}

/** Thrown for a schema that cannot become a tool's input schema; the message says why. */
export class ToolSchemaError extends Error {
  override readonly name = 'ToolSchemaError';
}

/** The schema's validator, made at once, so that a schema it cannot use fails here and not at the first call. */
export function jsonSchemaInput(schema: JsonSchema, JsonSchemaValidator: JsonSchemaValidator): NormalizedSchema {
  const jsonSchema = objectSchema(schema);
  let validator: SchemaValidator;
  try {
    validator = new JsonSchemaValidator(jsonSchema as never, '7', false);
  } catch (error) {
    throw new ToolSchemaError(`not a valid JSON Schema: ${(error as Error).message}`);
  }
  return {
    jsonSchema,
    validate: async (input) => {
      const result = validator.validate(input);
      if (result.valid) return { ok: true, value: input };
      // The innermost errors say what is wrong; the outer ones only that something below is.
      const details = result.errors.filter((error) => !['properties', 'allOf', 'anyOf', 'items'].includes(error.keyword));
      return {
        ok: false,
        message: (details.length > 0 ? details : result.errors).map((error) => `${error.instanceLocation || '#'}: ${error.error}`).join('; '),
      };
    },
  };
}

/**
 * The same, its validator made at the first validation, with the class
 * `validator` resolves to. A schema the validator cannot use fails that
 * validation, which the model is told of: Lambda tools' schemas were made or
 * checked at synthesis (tool-schema.ts), so it is not expected of them.
 */
export function deferredJsonSchemaInput(schema: JsonSchema, validator: Promise<JsonSchemaValidator>): NormalizedSchema {
  const jsonSchema = objectSchema(schema);
  let input: Promise<NormalizedSchema> | undefined;
  return {
    jsonSchema,
    validate: async (value) => {
      input ??= validator.then((JsonSchemaValidator) => jsonSchemaInput(jsonSchema, JsonSchemaValidator));
      return (await input).validate(value);
    },
  };
}

/** Bedrock sends tool input as a JSON object: a schema of anything else cannot be satisfied. */
export function objectSchema(schema: JsonSchema): JsonSchema {
  if (schema.type !== 'object') {
    throw new ToolSchemaError(
      `the input schema must describe an object (type: "object"), got ${schema.type === undefined ? 'no type' : `type: ${JSON.stringify(schema.type)}`}`,
    );
  }
  return schema;
}
