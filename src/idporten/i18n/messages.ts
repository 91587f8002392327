// The dev ID-porten's message catalogues (docs/tokens.md#sign-in-pages): bokmål, nynorsk and
// English, the languages of Min profil. The bokmål catalogue's keys are the type every catalogue
// must fill, so a missing text fails tsc; i18n.test.ts checks that none is empty and that the
// placeholders agree.

import type { IdentifierProblem } from '../../identifier/identifier.js';
import { nb } from './nb.js';

export type MessageKey = keyof typeof nb;
export type Messages = Readonly<Record<MessageKey, string>>;

/** Every identifier problem has its text (a problem added to identifier.ts fails tsc here). */
const _everyProblemHasText: Record<`identifier.${IdentifierProblem}`, unknown> = nb;
void _everyProblemHasText;
