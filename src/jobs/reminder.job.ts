// The reminder job (docs/jobs.md#reminders): every person who can be notified today but whose
// latest confirmation of a channel is `afterMonths` calendar months old gets one message, by
// e-mail when they have an address, else by SMS, asking them to confirm or change their contact
// information in Min profil before the 18-month rule stops it being used (docs/freshness.md).
//
// One reminder per confirmation: reminder_sent remembers the confirmation each person was last
// reminded for, marked in the transaction that writes the reminder to the outbox, so a run stopped
// anywhere and started again (here or in another process), or two runs at once, send each
// reminder once. The register is read a page at a time in identifier order, each page one short
// transaction.

import { monthsBefore } from '../freshness/freshness.js';
import { enqueueMessage } from '../outbox/outbox.repository.js';
import type { EnqueueMessage, OutboxMessage } from '../outbox/outbox.js';
import type { Job, JobContext } from './job.js';
import { reminderLanguage, reminderMessage } from './reminder.messages.js';
import { ReminderRepository } from './reminder.repository.js';
import type { DueReminder } from './reminder.repository.js';

/** The outbox's kind for a reminder: the only part of it that logs and metrics may name. */
export const REMINDER_KIND = 'paaminnelse';

export interface ReminderJobOptions {
  /** How old (calendar months on the Oslo wall clock) a confirmation is when its reminder is due. */
  readonly afterMonths: number;
  readonly intervalMs: number;
  /** Min profil's address, the message's link (`<publicUrl>/minprofil`). */
  readonly minprofilUrl: string;
  /** Writes a message in the caller's transaction; default the outbox's enqueueMessage. */
  readonly enqueue?: EnqueueMessage;
  /** Persons per page (one transaction each); default 1000. */
  readonly pageSize?: number;
}

/** The message to `due`, or undefined when they have neither an address nor a number. */
function messageTo(due: DueReminder, minprofilUrl: string): OutboxMessage | undefined {
  const { subject, text } = reminderMessage(reminderLanguage(due.spraak), minprofilUrl);
  if (due.epostadresse !== undefined)
    return { kind: REMINDER_KIND, channel: 'epost', recipient: due.epostadresse, subject, text };
  if (due.mobiltelefonnummer !== undefined)
    return { kind: REMINDER_KIND, channel: 'sms', recipient: due.mobiltelefonnummer, subject: '', text };
  return undefined;
}

export function reminderJob(options: ReminderJobOptions): Job {
  const enqueue = options.enqueue ?? enqueueMessage;
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(options.afterMonths) || options.afterMonths < 1)
    throw new Error('reminder: afterMonths must be a whole number of months, at least 1');
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error('reminder: pageSize must be at least 1');
  const repository = new ReminderRepository();

  return {
    name: 'reminder',
    description: `reminds persons whose contact information was last confirmed ${options.afterMonths} months ago or more`,
    intervalMs: options.intervalMs,

    async run(ctx: JobContext): Promise<void> {
      // One now for the whole run: every page asks the same question.
      const now = ctx.clock.now();
      const sentAt = new Date(now);
      // Due when the confirmation is at or before now minus afterMonths, counted as the 18-month
      // rule counts its boundary: a confirmation exactly afterMonths old is due.
      const cutoff = monthsBefore(now, options.afterMonths);
      const totals = { scanned: 0, sent_epost: 0, sent_sms: 0 };
      let after = '';
      let stopped: string | undefined;
      for (;;) {
        if (ctx.signal.aborted) stopped = 'stopped';
        else if (!ctx.stillHolds()) stopped = 'lease lost';
        if (stopped) break;
        const page = await ctx.db.transaction(async (tx) => {
          const marked = await repository.markPage(tx, { after, cutoff, limit: pageSize, sentAt });
          const sent = { epost: 0, sms: 0 };
          for (const due of marked.marked) {
            const message = messageTo(due, options.minprofilUrl);
            if (!message) continue;
            await enqueue(tx, message, sentAt);
            sent[message.channel]++;
          }
          return { scanned: marked.scanned, next: marked.next, sent };
        });
        // Counted after the commit: what the counts say was sent, was.
        ctx.count('scanned', page.scanned);
        if (page.sent.epost > 0) ctx.count('sent_epost', page.sent.epost);
        if (page.sent.sms > 0) ctx.count('sent_sms', page.sent.sms);
        totals.scanned += page.scanned;
        totals.sent_epost += page.sent.epost;
        totals.sent_sms += page.sent.sms;
        if (page.next === undefined) break;
        after = page.next;
      }
      ctx.log.info(
        { job: 'reminder', kind: REMINDER_KIND, ...totals, ...(stopped ? { stopped } : {}) },
        stopped ? `reminder: ${stopped} before the end; the next run goes on` : 'reminder: done',
      );
    },
  };
}
