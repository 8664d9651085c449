/** Types for scripts/openblas.mjs (node-only; used by the install script and binding.gyp). */

/** Where OpenBLAS was found and the compiler / linker flags for it. */
export interface OpenBlasResult {
  /** Whether a usable OpenBLAS (header and library flags) was found. */
  readonly found: boolean;
  /** 'pkg-config' (openblas.pc), 'search' (a known include directory) or null when not found. */
  readonly source: 'pkg-config' | 'search' | null;
  /** `pkg-config --modversion openblas`, when pkg-config found it. */
  readonly version: string | null;
  /** Compiler flags (-I…). */
  readonly cflags: string[];
  /** Linker flags (-L…, -lopenblas, and -Wl,-rpath for directories outside the system tree). */
  readonly libs: string[];
  /** One line saying what was tried, when not found. */
  readonly reason: string | null;
}

/** Result of one pkg-config call. */
export interface PkgConfigResult {
  readonly ok: boolean;
  readonly out?: string;
  readonly error?: string;
}

/** Probes {@link findOpenBlas} uses; each defaults to the real one. */
export interface FindOpenBlasOptions {
  readonly env?: Record<string, string | undefined>;
  readonly exists?: (path: string) => boolean;
  readonly pkgConfig?: (args: string[]) => PkgConfigResult;
}

/** Include directories searched when pkg-config does not know OpenBLAS, with their library directory (null: the linker's default). */
export const SEARCH_DIRS: readonly { readonly include: string; readonly lib: string | null }[];

/** Split pkg-config output into flags (blanks separate, a backslash escapes the next character). */
export function splitFlags(text: string): string[];

/** The flags plus `-Wl,-rpath,DIR` for every `-LDIR` outside /usr, /lib, /lib64 (and for /usr/local/opt/…). */
export function withRpath(libs: readonly string[]): string[];

/** Locate OpenBLAS: pkg-config first, then {@link SEARCH_DIRS} unless GENPHYS_OPENBLAS_SEARCH=0. */
export function findOpenBlas(options?: FindOpenBlasOptions): OpenBlasResult;
