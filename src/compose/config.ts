import { jwtSettingsSchema } from '../auth/jwt-settings.js';
import { createConfigSchema, type Config } from '../config/schema.js';
import { capSchema } from '../notify/caps.js';
import { streamSpecSchema } from '../pipeline/stream-spec.js';
import { ruleSpecSchema } from '../rules/rule-spec.js';

/** What a project defines, checked by the schemas of the layers that run it. */
export const projectSchemas = {
  stream: streamSpecSchema,
  rule: ruleSpecSchema,
  cap: capSchema,
  jwt: jwtSettingsSchema,
};

/** backline's whole configuration schema (tests parse settings with it). */
export const configSchema = createConfigSchema(projectSchemas);

export type AppConfig = Config<typeof projectSchemas>;
