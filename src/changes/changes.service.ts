import type { AccessToken } from '../access/access-token.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { renderPersonAnswer, renderUnregisteredAnswer } from '../answer/answer.compose.js';
import type { View } from '../access/access.view.js';
import type { Clock } from '../time/clock.js';
import type { ChangesRepository } from './changes.repository.js';
import { freshnessBoundary } from '../freshness/freshness.js';

/** At most this many persons per page (docs/change-feed.md#answer). */
export const FEED_PAGE_SIZE = 1000;

export interface ChangesDeps {
  readonly changes: ChangesRepository;
  readonly audit: AuditRepository;
  readonly clock: Clock;
}

export class ChangesService {
  constructor(private readonly deps: ChangesDeps) {}

  /**
   * One page of the change feed as JSON text: `{list, fraEndringsId, tilEndringsId, sisteEndringsId}`.
   * `tilEndringsId` is the last listed person's change id, or `sisteEndringsId` when none is listed.
   */
  async page(fraEndringsId: number, view: View, caller: AccessToken, endpoint: string): Promise<string> {
    const page = await this.deps.changes.page(fraEndringsId, FEED_PAGE_SIZE);
    const boundary = freshnessBoundary(this.deps.clock.now());
    // A removed person shows as IKKE_REGISTRERT (docs/change-feed.md#removed-persons).
    const list = page.persons.map((c) =>
      c.removed
        ? renderUnregisteredAnswer(c.personidentifikator, view)
        : renderPersonAnswer(c.person, view, boundary, c.duplicates),
    );
    const last = page.persons[page.persons.length - 1];
    const tilEndringsId = last ? last.changeId : page.latestChangeId;
    await this.deps.audit.record({
      at: new Date(),
      clientId: caller.clientId,
      consumer: caller.consumer,
      supplier: caller.supplier,
      endpoint,
      identifiers: page.persons.map((c) =>
        c.removed ? c.personidentifikator : c.person.personidentifikator,
      ),
      status: 200,
    });
    return `{"list":[${list.join(',')}],"fraEndringsId":${fraEndringsId},"tilEndringsId":${tilEndringsId},"sisteEndringsId":${page.latestChangeId}}`;
  }
}
