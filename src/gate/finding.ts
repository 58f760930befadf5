/** A compatibility finding: a diagnostic with the rule, the event and the schema path it is about. */
import type { Diagnostic } from '../diagnostics.js';

export interface Finding extends Diagnostic {
  /** Stable rule id, e.g. `REQUIRED_PROPERTY_ADDED`; also the diagnostic code. */
  rule: string;
  /** `type@version` the finding is about, when it is about an event. */
  event?: string;
  /** JSON pointer inside the payload (or `/headers…`), when it is about a schema node. */
  path?: string;
  breaking: boolean;
  /** For a breaking schema change: an instance that shows it, and which versions accept and reject it. */
  witness?: string;
  /** Set when the config accepts this finding, with the reason it gives. */
  ignored?: string;
}
