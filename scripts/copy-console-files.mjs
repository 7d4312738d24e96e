// `npm run build`: the console's templates and assets are read at run time next to its compiled code.
import fs from 'node:fs';

for (const folder of ['views', 'assets']) {
  fs.cpSync(`src/console/${folder}`, `dist/console/${folder}`, { recursive: true });
}
