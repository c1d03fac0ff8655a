// The migrations, oldest first. `npm run migration:generate -- Name` appends to this list.
import { Foundation1763900000000 } from './1763900000000-Foundation';

export const MIGRATIONS = [Foundation1763900000000];
