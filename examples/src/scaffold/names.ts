import { UsageError } from "@smpcall/core";

/** A backend name as `--arch` and the package scope accept it: lowercase letters, digits, . _ - (max 64). */
export const ARCH_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Check a new backend's name; throws UsageError saying what is accepted. */
export function checkArchName(name: string): string {
  if (!ARCH_NAME_PATTERN.test(name) || /[._-]$/.test(name))
    throw new UsageError(
      `bad arch name "${name}": use lowercase letters, digits, ".", "_" or "-" (at most 64, starting and ending with a letter or digit), e.g. riscv`,
    );
  return name;
}

/** The ArchIpi class name for a backend name: `riscv` -> `RiscvIpi`, `arm64-gic` -> `Arm64GicIpi`, `8051` -> `Arch8051Ipi`. */
export function ipiClassName(name: string): string {
  const pascal = name
    .split(/[._-]+/)
    .filter((p) => p !== "")
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join("");
  return `${/^[0-9]/.test(pascal) ? "Arch" : ""}${pascal}Ipi`;
}
