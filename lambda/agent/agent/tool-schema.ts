/**
 * A tool's input schema, whatever it was written with, as the two things
 * the runtime needs: the JSON Schema Bedrock is sent, and a validator for the
 * input a model produces. Accepted, as the AI SDK's `tool()` accepts them:
 * - a Standard JSON Schema (zod 4.2 and later, valibot's and arktype's
 *   adapters): converted and validated through its `~standard` interface;
 * - a zod/mini schema (zod 4's small build, without Standard JSON Schema):
 *   validated through `~standard`, converted by zod's own `toJSONSchema`
 *   (in zod's core, which zod/mini is built on);
 * - the AI SDK's `jsonSchema(...)` (or a function returning it);
 * - a plain JSON Schema object, validated with @cfworker/json-schema
 *   (json-schema-input.ts).
 * The schema must describe an object: Bedrock sends tool input as one.
 *
 * defineAgent normalizes with this module, in the user's agent bundle and at
 * synthesis. The runtime's handler does not import it: its own tools (Lambda
 * tools, MCP tools) are plain JSON Schema, so zod's converter stays out of
 * what its init loads.
 */
import { Validator } from '@cfworker/json-schema';
import { toJSONSchema, type $ZodType } from 'zod/v4/core';
import { jsonSchemaInput, objectSchema, ToolSchemaError, type JsonSchema, type NormalizedSchema } from './json-schema-input';

export { ToolSchemaError, type JsonSchema, type NormalizedSchema, type ValidationResult } from './json-schema-input';

const AI_SDK_SCHEMA = Symbol.for('vercel.ai.schema');

interface StandardSchema {
  '~standard': {
    vendor: string;
    validate(value: unknown): StandardResult | Promise<StandardResult>;
    jsonSchema?: { input(options: { target: string }): JsonSchema };
  };
}
type StandardResult =
  { value: unknown; issues?: undefined } | { issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }> };

interface AiSdkSchema {
  jsonSchema: JsonSchema | PromiseLike<JsonSchema>;
  validate?(
    value: unknown,
  ): { success: true; value: unknown } | { success: false; error: Error } | PromiseLike<{ success: true; value: unknown } | { success: false; error: Error }>;
}

export function normalizeSchema(schema: unknown): NormalizedSchema {
  const resolved = typeof schema === 'function' ? (schema as () => unknown)() : schema;
  if (!resolved || typeof resolved !== 'object') throw new ToolSchemaError('inputSchema must be a zod schema, a JSON Schema object or the AI SDK jsonSchema()');
  if (AI_SDK_SCHEMA in resolved) return fromAiSdk(resolved as unknown as AiSdkSchema);
  if ('~standard' in resolved) return fromStandard(resolved as StandardSchema);
  return fromJsonSchema(resolved as JsonSchema);
}

function fromStandard(schema: StandardSchema): NormalizedSchema {
  const standard = schema['~standard'];
  const jsonSchema = objectSchema(standardJsonSchema(schema));
  return {
    jsonSchema,
    validate: async (input) => {
      const result = await standard.validate(input);
      if (!result.issues) return { ok: true, value: result.value };
      return { ok: false, message: result.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`).join('; ') };
    },
  };
}

function standardJsonSchema(schema: StandardSchema): JsonSchema {
  const standard = schema['~standard'];
  if (standard.jsonSchema) return standard.jsonSchema.input({ target: 'draft-07' });
  // zod/mini's schemas have no Standard JSON Schema (zod's classic API adds it); zod's converter reads any zod 4 schema.
  if (standard.vendor === 'zod' && '_zod' in schema) return toJSONSchema(schema as unknown as $ZodType, { target: 'draft-07', io: 'input' }) as JsonSchema;
  throw new ToolSchemaError(
    `a ${standard.vendor} schema without JSON Schema conversion (Standard JSON Schema); use zod 4.2 or later (classic or zod/mini), or give a JSON Schema object`,
  );
}

function fromAiSdk(schema: AiSdkSchema): NormalizedSchema {
  const jsonSchema = schema.jsonSchema;
  if (typeof (jsonSchema as PromiseLike<unknown>).then === 'function')
    throw new ToolSchemaError('an AI SDK schema whose JSON Schema is asynchronous; give it synchronously');
  const checked = objectSchema(jsonSchema as JsonSchema);
  const validate = schema.validate;
  if (!validate) return fromJsonSchema(checked);
  return {
    jsonSchema: checked,
    validate: async (input) => {
      const result = await validate(input);
      return result.success ? { ok: true, value: result.value } : { ok: false, message: result.error.message };
    },
  };
}

function fromJsonSchema(schema: JsonSchema): NormalizedSchema {
  return jsonSchemaInput(schema, Validator);
}

function pathOf(path: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined): string {
  if (!path || path.length === 0) return 'input';
  return path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
}
