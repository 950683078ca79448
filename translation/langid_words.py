"""Short word lists for languages the statistical detectors miss in three-word messages.

pycld2 and py3langid were trained on web text. Swahili, Hausa, Yoruba, Zulu and Somali are
thin there, and Hindi written in Latin letters (Hinglish) is absent altogether: they call
"mujhe madad chahiye" Klingon or Basque. These lists hold the most frequent function words,
greetings and everyday help-seeking words of each language, as people text them (with and
without diacritics). A word that appears in several lists counts for each only in part, so
shared words ("na", "ni") do not decide anything alone.

Keep the lists to common words. They are measured on translation/data/langid_eval.csv; a
word added only because it appears there would flatter the measurement and help nobody.
"""

from __future__ import annotations

WORDS: dict[str, frozenset[str]] = {
    "sw": frozenset(
        """
        na ya wa za kwa ni la cha vya katika sana hapana ndio ndiyo asante habari nini gani
        wapi lini sijui nataka sitaki naomba nina sina yangu wangu changu yako wako mimi wewe
        yeye sisi leo kesho jana sasa bado tu pia lakini kama kuna hakuna siku usiku mtu watu
        mama baba mtoto watoto rafiki msaada nisaidie mambo poa sawa vizuri mbaya naweza
        siwezi kila hii huyu hapa kitu kazi shule nyumbani moyo akili huzuni furaha shida
        tafadhali karibu jambo hujambo sijambo samahani mgonjwa daktari kulala kula kuongea
        kuhusu wasiwasi naye mume mke dada kaka kidogo niko uko yuko tuko nyinyi wao ila
        """.split()
    ),
    "ha": frozenset(
        """
        da ba na ne ce ina yana tana suna muna kuna zan zai za ya ta ni kai ke shi ita mu ku
        su wannan yau gobe jiya sosai don domin amma kuma idan lokacin gode nagode sannu
        lafiya yaya kwana barka taimako taimake bukatar damuwa tsoro ciwo abin me mene wane
        wace eh a'a iya so san sani yi magana likita gida dare rana kullum kowane zuciya
        bakin ciki gajiya barci dadi rashin mijina matata yarona yara uwa mahaifiya
        mahaifina mahaifiyata wanda ban bai bata gaba sai kawai aiki
        """.split()
    ),
    "yo": frozenset(
        """
        mo mi ni ti o ó ò kò ko ṣe se ẹ e wa won wọn awa emi èmi iwo oun ati àti sugbon
        ṣugbọn fun pẹlu pelu ninu nínú lati láti lori lórí naa náà yii yìí eyi èyí bawo báwo
        kini kí nibo níbo nigba ese ẹṣé ose kaaro káàrọ̀ kaasan kaale daadaa dada gan gan-an
        ara ile ilé iya ìyá baba ọmọ omo ọkọ oko iyawo ise iṣẹ́ owo ran iranlowo iranlọwọ fe
        fẹ́ le lè sun sùn mọ ohun ẹnikẹni enikeni gbogbo nitori nítorí bẹẹni beeni rara rárá
        ń maa máa sí si tí ṣé lónìí loni òru oru
        """.split()
    ),
    "zu": frozenset(
        """
        yebo cha ngiyabonga sawubona unjani ngikhona kakhulu umama ubaba ingane umuntu
        abantu namuhla kusasa izolo manje futhi kodwa uma ukuthi lapho yini kanjani ngani
        kuphi ngubani nami wena mina yena thina nina bona ngifuna angifuni ngidinga usizo
        ngicela ubusuku emini ekuseni inhliziyo ikhanda umsebenzi ngikhathele ngiyesaba
        ngiyagula uyagula kahle kabi impela nje khona lokhu lowo kule wami wakho bonke
        zonke angazi angikwazi
        """.split()
    ),
    "so": frozenset(
        """
        waxaan waan wuu way ayaan ayaa baan aad iyo oo ka ku la u ma maya haa mahadsanid
        mahadsan waad iska warran nabad maanta berri shalay habeen habeenkii maalin
        maalinta qof qofna hooyo aabo ilmo caruur caawimaad caawi xanuun xanuunsan walwal
        cabsi shaqo guri sidee maxaa waa ah tahay yahay jiro karo kartaa rabaa rabo
        doonayaa inaan anigu adiga isaga iyada annaga hadda weli laakiin haddii markaas wax
        walaal dhakhtar fiican kasta dhan
        """.split()
    ),
    "hi-Latn": frozenset(
        """
        hai hain hoon hun ho tha thi nahi nahin kya kyu kyun kaise kaisa kaisi kab kahan
        kaun main mai mujhe mujhko mera meri mere hum humko tum tumhe aap aapka aapki woh wo
        yeh ye usko unko se ko ka ki ke mein bhi aur lekin magar toh bahut bohot thoda thodi
        zyada kuch sab koi kisi kabhi abhi aaj kal raat din subah shaam ghar dil mann dard
        dukh khushi pareshan pareshani udaas akela akeli darr madad chahiye chahta chahti
        sakta sakti sakte raha rahi rahe gaya gayi gaye karna karta karti karo karun kar
        hona hota hoti lagta lagti lag samajh samajhta pata baat bolo batao yaar bhai didi
        maa papa pati patni bacha bachcha naukri neend accha acha theek thik haan ji
        shukriya dhanyavad dhanyawad namaste kripya
        """.split()
    ),
    # English, Spanish, French and Portuguese are detected well in longer texts; their
    # lists are counterweights for two-word messages ("no gracias", "non merci") and for
    # words shared with the languages above ("to", "me", "na").
    "es": frozenset(
        """
        yo tu mi me te se lo la el los las de del que y en un una por para con sin no si sí
        es estoy estás estas está esta muy mucho gracias hola como cómo qué que quiero puedo
        tengo necesito ayuda hoy mañana noche día bien mal nada nadie también pero
        """.split()
    ),
    "fr": frozenset(
        """
        je j' tu il elle nous vous ils me te se le la les un une des du de et en à au aux
        pour avec sans ne pas non oui est suis es sont très merci bonjour salut ça va
        comment quoi pourquoi veux peux ai aide aujourd'hui demain nuit jour bien mal rien
        personne aussi mais
        """.split()
    ),
    "pt": frozenset(
        """
        eu tu ele ela nós você me te se o a os as um uma de do da dos das que e em no na por
        para com sem não nao sim é estou está muito obrigado obrigada olá oi como quero
        posso tenho preciso ajuda hoje amanhã noite dia bem mal nada ninguém também mas
        """.split()
    ),
    "en": frozenset(
        """
        i im i'm me my you your the a an to and is am are was not no yes ok okay please
        thanks thank help feel feeling want need can cant can't dont don't do what how why
        when where who today tomorrow night day sleep tired stressed sad
        """.split()
    ),
}

# Word beginnings that mark a language's verb morphology. Swahili subject and tense
# prefixes (nime-, nita-, sija-) and Zulu first-person forms (ngi-, angi-) survive in
# single-word messages such as "nimechoka" or "ngiyesaba".
PREFIXES: dict[str, tuple[str, ...]] = {
    "sw": ("nime", "nita", "nili", "nina", "sija", "sita", "siwe", "tuta", "tuna", "ana", "wana"),
    "zu": ("ngi", "angi", "uku", "ngiya", "ngizi"),
}

# Letters that only a few orthographies use: Yoruba's dotted vowels and s, Hausa's hooked
# consonants.
MARKER_LETTERS: dict[str, frozenset[str]] = {
    "yo": frozenset("ẹọṣẸỌṢ"),
    "ha": frozenset("ɓɗƙƴƁƊƘƳ"),
}

PREFIX_MIN_LENGTH = 6
