// Min profil's languages and message catalogues (docs/minprofil.md#pages): bokmål by default,
// nynorsk and English. The bokmål catalogue's keys are the type every catalogue must fill, so a
// missing text fails tsc; i18n.test.ts checks that none is empty and that the placeholders agree.

import type { ProfileProblem } from '../../profile/profile.js';
import { nb } from './nb.js';

export const LOCALES = ['nb', 'nn', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'nb';

export type MessageKey = keyof typeof nb;
export type Messages = Readonly<Record<MessageKey, string>>;

/** Every ProfileError problem has its text (a problem added to profile.ts fails tsc here). */
export type ProblemKey = `problem.${ProfileProblem}`;
const _everyProblemHasText: Record<ProblemKey, unknown> = nb;
void _everyProblemHasText;

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}
