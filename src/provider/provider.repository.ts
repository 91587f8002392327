import type { Database, Queryable } from '../store/database.js';

export interface MailboxProvider {
  readonly orgno: string;
  readonly name: string;
  /** base64 DER */
  readonly certificate: string;
}

export interface PrintCertificate {
  readonly orgno: string;
  readonly certificate: string;
}

export class ProviderRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<MailboxProvider[]> {
    return this.db.query<MailboxProvider>(
      'select orgno, name, certificate from mailbox_provider order by orgno',
    );
  }

  async find(orgno: string, q: Queryable = this.db): Promise<MailboxProvider | undefined> {
    const [row] = await q.query<MailboxProvider>(
      'select orgno, name, certificate from mailbox_provider where orgno = $1',
      [orgno],
    );
    return row;
  }

  /** Inserts or replaces; `sertifikat_fragment` is what persons without a certificate of their own show. */
  async save(provider: MailboxProvider, q: Queryable = this.db): Promise<void> {
    await q.query(
      `insert into mailbox_provider (orgno, name, certificate, sertifikat_fragment) values ($1, $2, $3, $4)
       on conflict (orgno) do update set name = excluded.name, certificate = excluded.certificate,
         sertifikat_fragment = excluded.sertifikat_fragment, updated_at = now()`,
      [
        provider.orgno,
        provider.name,
        provider.certificate,
        `"sertifikat":${JSON.stringify(provider.certificate)}`,
      ],
    );
  }

  async remove(orgno: string, q: Queryable = this.db): Promise<boolean> {
    const rows = await q.query('delete from mailbox_provider where orgno = $1 returning orgno', [orgno]);
    return rows.length > 0;
  }

  /** How many persons have a mailbox at the provider. */
  async personsUsing(orgno: string, q: Queryable = this.db): Promise<number> {
    const [row] = await q.query<{ n: number }>(
      'select count(*)::int8 as n from person where mailbox_provider = $1',
      [orgno],
    );
    return row?.n ?? 0;
  }

  async printCertificate(): Promise<PrintCertificate | undefined> {
    const [row] = await this.db.query<PrintCertificate>('select orgno, certificate from print_certificate');
    return row;
  }

  async setPrintCertificate(print: PrintCertificate): Promise<void> {
    await this.db.query(
      `insert into print_certificate (singleton, orgno, certificate) values (true, $1, $2)
       on conflict (singleton) do update set orgno = excluded.orgno, certificate = excluded.certificate, updated_at = now()`,
      [print.orgno, print.certificate],
    );
  }
}
