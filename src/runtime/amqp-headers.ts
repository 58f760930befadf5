/** Moved to ./amqp/headers.ts; this re-export keeps `./index.js` building until it stops exporting AMQP names. */
export { AmqpHeaders, toAmqpProperties, bindingKey, AMQP_CE_PREFIX } from './amqp/headers.js';
