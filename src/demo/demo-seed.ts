import { generateSelfSignedCertificate } from '../certificate/certificate-generator.js';
import { PersonWriter } from '../register/person.writer.js';
import { ProviderRepository } from '../provider/provider.repository.js';
import { ProviderService } from '../provider/provider.service.js';
import type { Database } from '../store/database.js';
import type { EpochMs } from '../time/oslo-time.js';
import { DEMO_PROVIDERS, demoPersons } from './demo-data.js';
import type { DemoPerson } from './demo-data.js';

/**
 * The demo register: two mailbox providers with freshly generated encryption certificates (made
 * only when the provider is missing) and the demo persons at `now`, most of whom use their
 * provider's.
 */
export async function seedDemo(db: Database, now: EpochMs): Promise<DemoPerson[]> {
  // The persons' timestamps follow `now` (the register's clock, docs/testdata.md#the-clock); the
  // certificates are checked in real time, so they are made valid from the real now.
  await seedDemoProviders(db, Date.now());
  const persons = demoPersons(now);
  await new PersonWriter(db).write(persons.map((p) => p.person));
  return persons;
}

/** The demo mailbox providers, each added with a new certificate when it is missing. */
export async function seedDemoProviders(db: Database, now: EpochMs): Promise<void> {
  const repository = new ProviderRepository(db);
  const service = new ProviderService(db);
  for (const provider of DEMO_PROVIDERS) {
    if (await repository.find(provider.orgno)) continue;
    const certificate = await generateSelfSignedCertificate({
      commonName: `${provider.name} encryption`,
      organisation: provider.name,
      organisationNumber: provider.orgno,
      validTo: new Date(now + 5 * 365 * 86_400_000),
      keyUsage: 'encryption',
    });
    await service.add({
      orgno: provider.orgno,
      name: provider.name,
      certificate: certificate.certificateDerBase64,
    });
  }
}
