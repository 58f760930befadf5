/**
 * `generated/security/`: the broker permissions the contract implies, beside the code, so a
 * review shows an access change next to the contract change that caused it.
 */
import type { Catalog } from '../catalog/model.js';
import type { Diagnostic } from '../diagnostics.js';
import { GENERATED_BANNER, type GeneratedFile } from '../emit/files.js';
import { amqpAclPlan, renderAmqpAclJson, renderAmqpAclScript } from './amqp-acl.js';
import { kafkaAclPlan, renderKafkaAclJson, renderKafkaAclScript } from './kafka-acl.js';
import { type SigningKeys } from './keys.js';
import { natsAclPlan, renderNatsAcl } from './nats-acl.js';

export const SECURITY_DIR = 'security';

const NATS_HEADER = `${GENERATED_BANNER}
nats-server permissions from the contract: one user per service (info.x-service-id), the admin
(provisioning) and the audit reader. Include it from the server's configuration next to its
tls { ... } block; each password is read from the environment variable named.`;

const AMQP_HEADER = `${GENERATED_BANNER}
RabbitMQ users and permissions from the contract, one user per service. Run with each
EC_AMQP_PASSWORD_* variable set; EC_AMQP_VHOST (default /) and EC_AMQP_USER_PREFIX choose
where and under which names. Running it again changes the passwords (rotation).`;

const KAFKA_HEADER = `${GENERATED_BANNER}
Kafka ACLs from the contract, one principal per service (User:<service id>), over the topic
names of provision kafka without prefixes (acl kafka --topic-prefix for others). Runs
Kafka's kafka-acls.sh against EC_KAFKA_BOOTSTRAP as the account in EC_KAFKA_ADMIN_CONFIG.`;

export function emitSecurity(catalog: Catalog, signingKeys: SigningKeys = {}): { files: GeneratedFile[]; diagnostics: Diagnostic[] } {
  const nats = natsAclPlan(catalog);
  const amqp = amqpAclPlan(catalog);
  const kafka = kafkaAclPlan(catalog);
  // Keys of the contract's services only, each as a list (several during a rotation).
  const keys = Object.fromEntries(
    catalog.services
      .map((s) => s.id)
      .sort()
      .filter((id) => signingKeys[id] !== undefined)
      .map((id) => [id, ([] as string[]).concat(signingKeys[id]!)]),
  );
  return {
    files: [
      { path: `${SECURITY_DIR}/signing-keys.json`, content: JSON.stringify({ generated: GENERATED_BANNER, keys }, null, 2) + '\n' },
      { path: `${SECURITY_DIR}/nats-accounts.conf`, content: renderNatsAcl(nats.plan, NATS_HEADER) },
      { path: `${SECURITY_DIR}/rabbitmq-acl.sh`, content: renderAmqpAclScript(amqp.plan, AMQP_HEADER) },
      { path: `${SECURITY_DIR}/rabbitmq-permissions.json`, content: renderAmqpAclJson(amqp.plan) },
      { path: `${SECURITY_DIR}/kafka-acls.sh`, content: renderKafkaAclScript(kafka.plan, KAFKA_HEADER) },
      { path: `${SECURITY_DIR}/kafka-acls.json`, content: renderKafkaAclJson(kafka.plan) },
    ],
    // The same diagnostics twice (both plans read one access view): report them once.
    diagnostics: nats.diagnostics,
  };
}
