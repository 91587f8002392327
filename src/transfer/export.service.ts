import { PersonRepository } from '../register/person.repository.js';
import { renderExportLine } from '../answer/answer.render.js';
import type { Database } from '../store/database.js';

/** The whole register as JSON Lines in identifier order: what `importPersons` reads. */
export async function* exportPersons(db: Database): AsyncGenerator<string> {
  for await (const page of new PersonRepository(db).scan()) {
    yield `${page.map(renderExportLine).join('\n')}\n`;
  }
}
