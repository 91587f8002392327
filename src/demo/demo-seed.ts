import { PersonWriter } from '../register/person.writer.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { ProviderService } from '../provider/provider.service.js';
import type { Database } from '../store/database.js';
import type { EpochMs } from '../time/oslo-time.js';
import { DEMO_DIGIPOST_PROVIDER_CERTIFICATE, DEMO_EBOKS_PROVIDER_CERTIFICATE } from './demo-certificates.js';
import { DEMO_PROVIDERS, DIGIPOST_ORGNO, EBOKS_ORGNO, demoPersons } from './demo-data.js';
import type { DemoPerson } from './demo-data.js';

/** Fixed, not generated: the same `now` gives the same register (docs/operations.md#demo-data). */
const PROVIDER_CERTIFICATES: Record<(typeof DEMO_PROVIDERS)[number]['orgno'], string> = {
  [DIGIPOST_ORGNO]: DEMO_DIGIPOST_PROVIDER_CERTIFICATE,
  [EBOKS_ORGNO]: DEMO_EBOKS_PROVIDER_CERTIFICATE,
};

/**
 * The demo register: the two mailbox providers with their fixed demo encryption certificates
 * (added only when the provider is missing) and the demo persons, most of whom use their
 * provider's; their timestamps are counted back from `now`. The same `now` gives the same
 * register every time (docs/operations.md#demo-data).
 */
export async function seedDemo(db: Database, now: EpochMs): Promise<DemoPerson[]> {
  // The persons' timestamps follow `now` (the register's clock, docs/testdata.md#the-clock).
  await seedDemoProviders(db);
  const persons = demoPersons(now);
  await new PersonWriter(db).write(persons.map((p) => p.person));
  return persons;
}

/** The demo mailbox providers, each added with its fixed certificate when it is missing. */
export async function seedDemoProviders(db: Database): Promise<void> {
  const repository = new ProviderRepository(db);
  const service = new ProviderService(db);
  for (const provider of DEMO_PROVIDERS) {
    if (await repository.find(provider.orgno)) continue;
    await service.add({
      orgno: provider.orgno,
      name: provider.name,
      certificate: PROVIDER_CERTIFICATES[provider.orgno],
    });
  }
}
