// `krr providers ...` and `krr print set`: the operator's commands for mailbox providers.

import type { Command } from 'commander';
import { readCertificateFile } from '../certificate/certificate-check.js';
import { loadConfig } from '../config/config.js';
import type { CliValues } from '../config/config.js';
import { InvalidValueError } from '../errors/errors.js';
import { ProviderService } from '../provider/provider.service.js';
import { withStore } from './runtime.js';

/** What commander parses for the commands below (beside the store options, which loadConfig reads). */
interface ProviderOptions extends CliValues {
  readonly orgno: string;
  readonly cert: string;
}

function certificateFrom(file: string): string {
  try {
    return readCertificateFile(file);
  } catch (err) {
    throw new InvalidValueError((err as Error).message);
  }
}

export function addProviderCommands(
  program: Command,
  storeOptions: (cmd: Command) => Command,
  out: NodeJS.WritableStream,
): void {
  const providers = program.command('providers').description('mailbox providers (Digipost, e-Boks, ...)');

  storeOptions(providers.command('add').description('register a provider and its encryption certificate'))
    .requiredOption('--orgno <orgno>', 'organisation number')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--cert <file>', 'encryption certificate, PEM or DER')
    .action(async (opts: ProviderOptions & { readonly name: string }) => {
      const certificate = certificateFrom(opts.cert);
      await withStore(loadConfig(opts), (db) =>
        new ProviderService(db).add({ orgno: opts.orgno, name: opts.name, certificate }),
      );
      out.write(`registered provider ${opts.orgno} (${opts.name})\n`);
    });

  storeOptions(providers.command('list').description('list the providers')).action(
    async (opts: CliValues) => {
      const list = await withStore(loadConfig(opts), (db) => new ProviderService(db).list());
      for (const p of list) out.write(`${p.orgno}  ${p.name}\n`);
    },
  );

  storeOptions(providers.command('update').description("replace a provider's certificate (and name)"))
    .requiredOption('--orgno <orgno>', 'organisation number')
    .requiredOption('--cert <file>', 'encryption certificate, PEM or DER')
    .option('--name <name>', 'new name')
    .action(async (opts: ProviderOptions & { readonly name?: string }) => {
      const certificate = certificateFrom(opts.cert);
      await withStore(loadConfig(opts), (db) =>
        new ProviderService(db).updateCertificate(opts.orgno, certificate, opts.name),
      );
      out.write(`updated provider ${opts.orgno}\n`);
    });

  storeOptions(providers.command('remove').description('remove a provider nobody uses'))
    .requiredOption('--orgno <orgno>', 'organisation number')
    .action(async (opts: CliValues & { readonly orgno: string }) => {
      await withStore(loadConfig(opts), (db) => new ProviderService(db).remove(opts.orgno));
      out.write(`removed provider ${opts.orgno}\n`);
    });

  const print = program.command('print').description("the print provider's certificate");
  storeOptions(
    print.command('set').description('set the print certificate served at /rest/v2/printSertifikat'),
  )
    .requiredOption('--orgno <orgno>', "the print provider's organisation number")
    .requiredOption('--cert <file>', 'encryption certificate, PEM or DER')
    .action(async (opts: ProviderOptions) => {
      const certificate = certificateFrom(opts.cert);
      await withStore(loadConfig(opts), (db) =>
        new ProviderService(db).setPrintCertificate(opts.orgno, certificate),
      );
      out.write(`print certificate set for ${opts.orgno}\n`);
    });
}
