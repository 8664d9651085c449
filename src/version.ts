/** The genphys version, stored in every checkpoint. Keep in step with package.json. */
export const VERSION = '0.1.0';
