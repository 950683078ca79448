"""Language technology for Tumaini: language identification and machine translation.

Everything here runs offline on CPU. Language ID combines two statistical detectors with
Unicode script hints and short word lists; translation runs CTranslate2 int8 models (NLLB-style
multilingual and OPUS-MT-style pairs) behind one small ``Translator`` interface, with
placeholder protection, a confidence gate and a Redis cache for approved content.

Crisis and safety text is never machine-translated at send time: callers send the reviewed
crisis message written for the person's locale. Machine translation serves approved content
drafts (which people review before use) and the guarded dialogue path only.

Importing this package loads nothing heavy; models load on first use.
"""
