/**
 * The translation domain of colab-guard's strings: every user-facing string
 * goes through a bundle of this domain (`trans.__`).
 */
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

/** The gettext domain: the Python package's name, as language packs expect. */
export const TRANSLATION_DOMAIN = 'colab_guard';

/** The bundle of colab-guard's strings (English without a translator). */
export function loadBundle(translator?: ITranslator | null): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}
