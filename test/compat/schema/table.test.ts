import { runTable } from './table.js';
import { TABLES as typesValues } from './cases/types-values.js';
import { TABLES as numbersStrings } from './cases/numbers-strings.js';
import { TABLES as arrays } from './cases/arrays.js';
import { TABLES as objects } from './cases/objects.js';
import { TABLES as combinatorsRefs } from './cases/combinators-refs.js';
import { TABLES as soundness } from './cases/soundness.js';
import { TABLES as draft2020 } from './cases/draft2020.js';

export const ALL_TABLES = [...typesValues, ...numbersStrings, ...arrays, ...objects, ...combinatorsRefs, ...soundness, ...draft2020];

for (const [title, cases] of ALL_TABLES) runTable(title, cases);
