import assert from "node:assert/strict";
import { join } from "node:path";
import { handlerProject } from "../../../src/config/handler_project.ts";

Deno.test("handlerProject() is the nearest directory up from the handler with a package.json, with where its links lead (node_modules, linked packages)", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "consumerd-project-" }));
  try {
    await Deno.mkdir(join(dir, "app", "handlers"), { recursive: true });
    await Deno.mkdir(join(dir, "store", "node_modules"), { recursive: true });
    assert.equal(handlerProject(join(dir, "app", "handlers", "h.ts")), null, "no package.json");
    await Deno.writeTextFile(join(dir, "app", "package.json"), "{}");
    assert.deepEqual(handlerProject(join(dir, "app", "handlers", "h.ts")), {
      root: join(dir, "app"),
      linked: [],
    });
    // node_modules installed elsewhere and linked in (pnpm, a shared volume).
    await Deno.symlink(join(dir, "store", "node_modules"), join(dir, "app", "node_modules"));
    // The project itself reached through a link (a ConfigMap-like layout).
    await Deno.symlink(join(dir, "app"), join(dir, "current"));
    assert.deepEqual(handlerProject(join(dir, "current", "handlers", "h.ts")), {
      root: join(dir, "current"),
      linked: [join(dir, "app"), join(dir, "store", "node_modules")],
    });
    // Packages linked into node_modules (npm install <dir>, workspaces), scoped ones too.
    await Deno.mkdir(join(dir, "libs", "pricing"), { recursive: true });
    await Deno.mkdir(join(dir, "libs", "tax"), { recursive: true });
    await Deno.mkdir(join(dir, "store", "node_modules", "@acme"));
    await Deno.symlink(join(dir, "libs", "pricing"), join(dir, "store", "node_modules", "pricing"));
    await Deno.symlink(
      join(dir, "libs", "tax"),
      join(dir, "store", "node_modules", "@acme", "tax"),
    );
    assert.deepEqual(handlerProject(join(dir, "app", "handlers", "h.ts"))?.linked.sort(), [
      join(dir, "libs", "pricing"),
      join(dir, "libs", "tax"),
      join(dir, "store", "node_modules"),
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
