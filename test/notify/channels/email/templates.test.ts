import { describe, expect, it } from 'vitest';
import {
  createEmailTemplates,
  localeChain,
} from '../../../../src/notify/channels/email/templates.js';
import { createMemoryStateStore } from '../../../../src/state/memory-state-store.js';

const variant = (word: string) => ({
  subject: `${word} {{name}}`,
  html: `<p>${word} {{name}}</p>`,
  text: `${word} {{name}}`,
});

describe('email templates', () => {
  it('falls back from the exact locale to its language, then to en', async () => {
    const templates = createEmailTemplates(createMemoryStateStore());
    await templates.put('p1', 'welcome', 'en', variant('Hello'));
    await templates.put('p1', 'welcome', 'pt', variant('Olá'));
    await templates.put('p1', 'welcome', 'pt-BR', variant('Oi'));
    const subject = async (locale: string | undefined) =>
      (await templates.render('p1', 'welcome', locale, { name: 'Ada' }))?.subject;
    expect(await subject('pt-BR')).toBe('Oi Ada');
    expect(await subject('pt-br')).toBe('Oi Ada');
    expect(await subject('pt-PT')).toBe('Olá Ada');
    expect(await subject('de-AT')).toBe('Hello Ada');
    expect(await subject(undefined)).toBe('Hello Ada');
    expect(await subject('not a locale')).toBe('Hello Ada');
    expect(await templates.render('p1', 'missing', 'en', {})).toBeUndefined();
    expect(await templates.render('p2', 'welcome', 'en', {})).toBeUndefined();
    expect(localeChain('zh-Hant-TW')).toEqual(['zh-hant-tw', 'zh-hant', 'zh', 'en']);
  });

  it("wraps every template of the project in the project's layout", async () => {
    const templates = createEmailTemplates(createMemoryStateStore());
    await templates.put('p1', 'welcome', 'en', variant('Hello'));
    await templates.putLayout('p1', {
      html: '<html><body>{{{content}}}<p>Unsubscribe: {{unsubscribeUrl}}</p></body></html>',
    });
    const out = await templates.render('p1', 'welcome', 'en', {
      name: 'Ada',
      unsubscribeUrl: 'https://x.example/u?a=1&b=2',
    });
    expect(out?.html).toBe(
      '<html><body><p>Hello Ada</p><p>Unsubscribe: https://x.example/u?a=1&amp;b=2</p></body></html>',
    );
    expect(out?.text).toBe('Hello Ada');
  });

  it('refuses invalid templates, ids, locales and layouts', async () => {
    const templates = createEmailTemplates(createMemoryStateStore());
    const put = (id: string, locale: string, raw: unknown) =>
      templates.put('p1', id, locale, raw).then(
        () => 'stored',
        (err: Error) => err.message,
      );
    expect(await put('ok', 'en', variant('Hi'))).toBe('stored');
    expect(await put('ok', 'en', { ...variant('Hi'), subject: 'a\r\nBcc: x' })).toMatch(/one line/);
    expect(await put('ok', 'en', { ...variant('Hi'), html: '<a onclick="{{x}}">' })).toMatch(
      /event handler/,
    );
    expect(await put('ok', 'en', { subject: 's', html: '<p>h</p>' })).toMatch(/text/);
    expect(await put('../x', 'en', variant('Hi'))).toMatch(/template ids/);
    expect(await put('ok', 'english!', variant('Hi'))).toMatch(/locale/);
    await expect(templates.putLayout('p1', { html: '<body></body>' })).rejects.toThrow(/content/);
    await expect(
      templates.putLayout('p1', { html: '<div title="{{{content}}}"></div>' }),
    ).rejects.toThrow(/element text/);
    expect(await templates.list('p1')).toEqual([{ id: 'ok', locale: 'en' }]);
  });
});
