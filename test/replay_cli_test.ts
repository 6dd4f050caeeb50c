import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { runScript } from "./cli.ts";
import { oneContextConfig } from "./fixtures/one_context.ts";

/** deno task replay, as its task runs it. */
const replay = (args: string[]) => runScript("replay.ts", ["--allow-read", "--allow-write"], args);

const config = oneContextConfig();

async function traceFile(dir: string, name: string, events: unknown[]): Promise<string> {
  const path = `${dir}/${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify({ name, config, events }));
  return path;
}

/** One line on stderr, exit 2, matching `re`. */
function badInput(r: { code: number; stderr: string }, re: RegExp) {
  assertEquals(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assertMatch(lines[0], re);
}

Deno.test("replay cli: binary and non-UTF-8 files are named as such, not echoed", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/elf.json`, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0]));
  await Deno.writeFile(`${dir}/latin1.json`, new Uint8Array([0x7b, 0xe9, 0x7d]));
  badInput(
    await replay([`${dir}/elf.json`]),
    /^error: .*elf\.json: a binary file, not a JSON trace$/,
  );
  badInput(
    await replay([`${dir}/latin1.json`]),
    /^error: .*latin1\.json: not UTF-8 text, not a JSON trace$/,
  );
  badInput(await replay([`${dir}/none.json`]), /^error: cannot read .*none\.json: no such file/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay cli: a bad event is reported with its numbers as the file wrote them", async () => {
  const dir = await Deno.makeTempDir();
  const mis = await traceFile(dir, "misaligned", [
    { op: "l1-map", ctx: 1, l2ipa: "0x100000000", l1ipa: "0x40000800", size: "4K" },
  ]);
  badInput(
    await replay([mis]),
    /events\[0\]: context 1: mapping L2 0x100000000 -> L1 0x40000800 is not aligned to its size 4K \(as written: .*"l1ipa":"0x40000800"/,
  );
  // A host event that meets no memslot is no host operation KVM could see.
  const out = await traceFile(dir, "outside", [{
    op: "migrate",
    l1ipa: "0x200000000",
    size: "4K",
  }]);
  badInput(await replay([out]), /events\[0\]: migrate of L1 0x200000000 \+4K meets no memslot/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replay cli: --minimize checks its output first and says when there is nothing to do", async () => {
  const dir = await Deno.makeTempDir();
  const clean = await traceFile(dir, "clean", [
    { op: "l1-map", ctx: 1, l2ipa: "4G", l1ipa: "1G", size: "4K" },
    { op: "access", vcpu: 0, ctx: 1, l2ipa: "4G" },
    { op: "migrate", l1ipa: "1G", size: "4K" },
  ]);
  badInput(
    await replay([clean, "--minimize", dir]),
    /--minimize: cannot write .*: it is a directory$/,
  );
  badInput(
    await replay([clean, "--minimize", `${clean}/x.json`]),
    /--minimize: cannot write .*: not a directory$/,
  );
  const r = await replay([clean, "--minimize", `${dir}/small.json`]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(
    r.stderr,
    /--minimize: nothing to minimize, full-walk leaves no violation on this trace/,
  );
  await assertRejects(() => Deno.stat(`${dir}/small.json`), Deno.errors.NotFound);
  // --help lists the exit codes.
  const help = await replay(["--help"]);
  assertMatch(help.stdout, /exit status: 0 no violation, 1 violations found, 2 bad input/);
  await Deno.remove(dir, { recursive: true });
});
