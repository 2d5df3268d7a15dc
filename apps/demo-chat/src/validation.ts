/**
 * zod 4 as Fastify's validator: route schemas are zod schemas, and a failure becomes Fastify's 400
 * with a message naming the field (`body.text: ...`). Parsed values (coerced, defaulted) replace the
 * raw ones, so handlers see exactly the schema's output type.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { type ZodType, z } from 'zod';

export const zodValidatorCompiler: FastifySchemaCompiler<ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const issue = result.error.issues[0]!;
    const field = [httpPart === 'querystring' ? 'query' : (httpPart ?? 'input'), ...issue.path].join('.');
    const error = new Error(`${field}: ${issue.message}`) as Error & { field: string };
    error.field = field;
    return { error };
  };

/** The caller: a stand-in for real authentication (`x-user-id: user-7`). */
export const userHeaders = z.looseObject({
  'x-user-id': z
    .string({ error: 'required (the caller, e.g. user-1)' })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
});

export const conversationParams = z.object({ id: z.coerce.number().int().positive().max(2_147_483_647) });

export const createConversationBody = z.strictObject({ title: z.string().trim().min(1).max(200) });

export const createMessageBody = z.strictObject({ text: z.string().trim().min(1).max(4_000) });

export const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: z.coerce.number().int().positive().optional(),
});
