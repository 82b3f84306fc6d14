import { z } from 'zod';
import type { StateStore } from '../../../state/state-store.js';
import {
  contentSlot,
  renderEmail,
  unsafePlaceholder,
  type LayoutParts,
  type RenderedEmail,
} from './render-email.js';

export const defaultLocale = 'en';

const safeHtml = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((html, ctx) => {
      const why = unsafePlaceholder(html);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    });

/** One locale's variant of a template; `{{name}}` and `{{a.b}}` are variables. */
export const emailTemplateSchema = z.object({
  subject: z
    .string()
    .min(1)
    .max(998) // RFC 5322 §2.1.1: a header line is at most 998 characters
    .regex(/^[^\r\n]*$/, 'the subject is one line'),
  html: safeHtml(512 * 1024),
  text: z
    .string()
    .min(1)
    .max(512 * 1024),
});

/** The project's shared frame around every template: `{{{content}}}` marks where it goes. */
export const emailLayoutSchema = z.object({
  html: safeHtml(512 * 1024).refine((html) => html.includes(contentSlot), {
    message: `the layout needs a ${contentSlot} slot`,
  }),
  text: z
    .string()
    .max(512 * 1024)
    .default(contentSlot),
});

export type EmailTemplate = z.infer<typeof emailTemplateSchema>;
export type EmailLayout = LayoutParts;

export const templateIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'template ids are 1–64 of A-Z a-z 0-9 _ . -');

/** BCP 47 tags such as `en`, `pt-BR`, `zh-Hant-TW`, kept lower-case. */
export const localeSchema = z
  .string()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/, 'a locale such as en or pt-BR')
  .transform((locale) => locale.toLowerCase());

/** `pt-br` → [`pt-br`, `pt`, `en`]: exact, then the language, then the default. */
export function localeChain(locale: string | undefined): string[] {
  const parsed = localeSchema.safeParse(locale ?? defaultLocale);
  const exact = parsed.success ? parsed.data : defaultLocale;
  const chain = [exact];
  for (let cut = exact.lastIndexOf('-'); cut > 0; cut = exact.lastIndexOf('-', cut - 1))
    chain.push(exact.slice(0, cut));
  return [...new Set([...chain, defaultLocale])];
}

/**
 * Email templates per project and locale in the StateStore (`tmpl/<project>/<id>/<locale>`),
 * with one shared layout per project (`tmpl-layout/<project>`). Rendering picks the exact
 * locale, then its language, then `en`.
 *
 * @example
 * const templates = createEmailTemplates(state);
 * await templates.put('shop', 'welcome', 'de', { subject: 'Hallo {{name}}', html: '<p>Hallo {{name}}</p>', text: 'Hallo {{name}}' });
 * await templates.render('shop', 'welcome', 'de-AT', { name: 'Ada' }); // the `de` variant
 */
export function createEmailTemplates(state: StateStore) {
  const keyOf = (project: string, id: string, locale: string) => `tmpl/${project}/${id}/${locale}`;
  const layoutKey = (project: string) => `tmpl-layout/${project}`;

  async function resolve(project: string, id: string, locale: string | undefined) {
    if (!templateIdSchema.safeParse(id).success) return undefined;
    for (const candidate of localeChain(locale)) {
      const template = await state.get<EmailTemplate>(keyOf(project, id, candidate));
      if (template) return { template, locale: candidate };
    }
    return undefined;
  }

  return {
    /** Validates and replaces one locale's variant; throws the zod error for the caller. */
    async put(project: string, id: string, locale: string, raw: unknown): Promise<EmailTemplate> {
      const template = emailTemplateSchema.parse(raw);
      const key = keyOf(project, templateIdSchema.parse(id), localeSchema.parse(locale));
      await state.put(key, template);
      return template;
    },
    get: (project: string, id: string, locale: string) =>
      state.get<EmailTemplate>(keyOf(project, id, locale.toLowerCase())),
    async remove(project: string, id: string, locale: string): Promise<void> {
      await state.del(keyOf(project, id, locale.toLowerCase()));
    },
    async list(project: string): Promise<Array<{ id: string; locale: string }>> {
      const rows = await state.list<EmailTemplate>(`tmpl/${project}/`);
      return rows.map(([key]) => {
        const [, , id, locale] = key.split('/');
        return { id: id!, locale: locale! };
      });
    },
    async putLayout(project: string, raw: unknown): Promise<EmailLayout> {
      const layout = emailLayoutSchema.parse(raw);
      await state.put(layoutKey(project), layout);
      return layout;
    },
    getLayout: (project: string) => state.get<EmailLayout>(layoutKey(project)),
    async removeLayout(project: string): Promise<void> {
      await state.del(layoutKey(project));
    },
    resolve,
    /** The rendered email in the best locale, inside the project's layout; undefined when no variant exists. */
    async render(
      project: string,
      id: string,
      locale: string | undefined,
      variables: Record<string, unknown>,
    ): Promise<(RenderedEmail & { locale: string }) | undefined> {
      const found = await resolve(project, id, locale);
      if (!found) return undefined;
      const layout = await state.get<EmailLayout>(layoutKey(project));
      return { ...renderEmail(found.template, layout, variables), locale: found.locale };
    },
  };
}

export type EmailTemplates = ReturnType<typeof createEmailTemplates>;
