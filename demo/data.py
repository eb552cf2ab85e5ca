"""Believable people, companies, cars and numbers for the demo and scale data sets.

Everything takes a `random.Random`, so a seed gives the same data on every run. The generators build the stored
forms directly (E.164 numbers, upper-case Latin VINs, Cyrillic plates); tests check them against clients.normalize so
the two cannot drift apart.
"""

import random
from dataclasses import dataclass

from accounts.roles import Role
from clients.normalize import PLATE_LETTERS

# --- People ------------------------------------------------------------------------------------------------------

MALE_FIRST_NAMES = (
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Виктор", "Виталий",
    "Владимир", "Владислав", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Денис", "Дмитрий", "Евгений", "Егор",
    "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Леонид", "Максим", "Михаил", "Никита", "Николай",
    "Олег", "Павел", "Пётр", "Роман", "Руслан", "Сергей", "Станислав", "Степан", "Тимур", "Фёдор", "Юрий",
)  # fmt: skip
FEMALE_FIRST_NAMES = (
    "Александра", "Алина", "Алла", "Анастасия", "Анна", "Валентина", "Валерия", "Вера", "Виктория", "Галина",
    "Дарья", "Диана", "Екатерина", "Елена", "Елизавета", "Жанна", "Зоя", "Ирина", "Карина", "Ксения", "Лариса",
    "Любовь", "Людмила", "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Оксана", "Ольга",
    "Полина", "Светлана", "София", "Тамара", "Татьяна", "Ульяна", "Юлия", "Яна",
)  # fmt: skip
# (male, female) patronymics from the same father's name.
PATRONYMICS = (
    ("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"), ("Андреевич", "Андреевна"),
    ("Борисович", "Борисовна"), ("Викторович", "Викторовна"), ("Владимирович", "Владимировна"),
    ("Геннадьевич", "Геннадьевна"), ("Дмитриевич", "Дмитриевна"), ("Евгеньевич", "Евгеньевна"),
    ("Иванович", "Ивановна"), ("Игоревич", "Игоревна"), ("Константинович", "Константиновна"),
    ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"), ("Олегович", "Олеговна"),
    ("Павлович", "Павловна"), ("Петрович", "Петровна"), ("Романович", "Романовна"), ("Сергеевич", "Сергеевна"),
    ("Юрьевич", "Юрьевна"), ("Анатольевич", "Анатольевна"), ("Васильевич", "Васильевна"),
    ("Валерьевич", "Валерьевна"), ("Григорьевич", "Григорьевна"), ("Фёдорович", "Фёдоровна"),
)  # fmt: skip
# Male forms; feminine_surname() derives the female ones.
SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
    "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
    "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
    "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов",
    "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров",
    "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
    "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов",
    "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев",
    "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков",
    "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
    "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
    "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
    "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов",
    "Софронов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков",
    "Сафонов", "Плотников", "Демин", "Хохлов", "Жданов", "Носов", "Шестаков", "Ковалевский", "Вишневский",
    "Островский", "Высоцкий", "Заболоцкий", "Толстой", "Шевченко", "Бондаренко", "Ткаченко", "Кравченко",
    "Черных", "Седых", "Ким", "Цой", "Гарипов", "Хабибуллин", "Сафин", "Алиев", "Мамедов", "Гасанов",
)  # fmt: skip

COMPANY_FORMS = ("ООО", "ООО", "ООО", "АО", "ИП")
COMPANY_STEMS = (
    "Авто", "Строй", "Транс", "Агро", "Техно", "Евро", "Сибирь", "Волга", "Север", "Мега", "Гранит", "Альфа", "Вектор",
    "Стандарт", "Спец", "Гео", "Мед", "Инвест", "Старт", "Регион", "Магистраль", "Профи", "Ника", "Орион",
)  # fmt: skip
COMPANY_TAILS = (
    "лайн", "сервис", "групп", "торг", "маш", "снаб", "пром", "логистик", "капитал", "ресурс", "трейд", "монтаж",
    "проект", "экспресс", "плюс", "центр",
)  # fmt: skip

_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
        "э": "e", "ю": "yu", "я": "ya",
    }
)  # fmt: skip
# Reserved for documentation (RFC 2606): a demo address never reaches a real mailbox.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def feminine_surname(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith(("ский", "цкий", "ой")):
        return surname[:-2] + "ая"
    return surname  # Шевченко, Черных, Ким: the same for both


@dataclass(frozen=True)
class Person:
    surname: str
    first_name: str
    patronymic: str
    female: bool

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.first_name} {self.patronymic}"

    @property
    def short_name(self) -> str:
        """Иванов И. П., as a form or a company register writes it."""
        return f"{self.surname} {self.first_name[0]}. {self.patronymic[0]}."


def person(rng: random.Random) -> Person:
    female = rng.random() < 0.42
    surname = rng.choice(SURNAMES)
    male_patronymic, female_patronymic = rng.choice(PATRONYMICS)
    if female:
        return Person(feminine_surname(surname), rng.choice(FEMALE_FIRST_NAMES), female_patronymic, True)
    return Person(surname, rng.choice(MALE_FIRST_NAMES), male_patronymic, False)


def company_name(rng: random.Random) -> str:
    form = rng.choice(COMPANY_FORMS)
    if form == "ИП":
        return f"ИП {person(rng).short_name}"
    return f"{form} «{rng.choice(COMPANY_STEMS)}{rng.choice(COMPANY_TAILS)}»"


def email_for(rng: random.Random, name: str, tag: int) -> str:
    words = name.lower().replace("«", " ").replace("»", " ").split()
    local = words[1] if words[0] in {"ооо", "ао", "ип"} and len(words) > 1 else words[0]
    return f"{local.translate(_TRANSLIT)}{tag}@{rng.choice(EMAIL_DOMAINS)}"


# --- Phones ------------------------------------------------------------------------------------------------------

# Mobile codes of the big Russian operators, all valid for libphonenumber; 930 is left out because part of its range
# is not.
MOBILE_CODES = (*range(900, 930), *range(931, 940), *range(950, 954), 958, *range(960, 970), *range(977, 1000))
_MOBILE_SPACE = len(MOBILE_CODES) * 10**7


def mobile_number(rng: random.Random) -> str:
    return f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}"


def unique_mobile_number(index: int) -> str:
    """The index-th of a sequence of distinct mobile numbers that still look random.

    Multiplying by a prime that does not divide the size of the space permutes the space, so no two indexes give
    the same number and no set of numbers has to be kept to avoid repeats; neighbouring indexes land far apart, in
    different codes, as real numbers do.
    """
    n = (index * 982_451_653 + 123_456_789) % _MOBILE_SPACE
    code, subscriber = divmod(n, 10**7)
    return f"+7{MOBILE_CODES[code]}{subscriber:07d}"


def spoken_spelling(rng: random.Random, e164: str) -> str:
    """The number as a person would type it, in one of the usual Russian spellings."""
    d = e164[2:]  # ten digits after +7
    return rng.choice(
        (
            f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"+7 {d[:3]} {d[3:6]} {d[6:]}",
            f"8{d}",
            d,
            f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"8-{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:]}",
        )
    )


# --- Cars --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarModel:
    make: str
    model: str
    first_year: int
    last_year: int
    weight: int


# What a Moscow-region dealer group's workshop sees, weighted roughly by how common each car is.
CAR_MODELS = (
    CarModel("Lada", "Vesta", 2015, 2026, 14),
    CarModel("Lada", "Granta", 2011, 2026, 12),
    CarModel("Lada", "Largus", 2012, 2026, 4),
    CarModel("Lada", "Niva Travel", 2021, 2026, 3),
    CarModel("Lada", "Niva Legend", 2021, 2026, 3),
    CarModel("Lada", "XRAY", 2016, 2022, 2),
    CarModel("Kia", "Rio", 2011, 2022, 9),
    CarModel("Kia", "Sportage", 2010, 2022, 4),
    CarModel("Kia", "Ceed", 2012, 2022, 3),
    CarModel("Kia", "K5", 2020, 2022, 2),
    CarModel("Hyundai", "Solaris", 2011, 2022, 9),
    CarModel("Hyundai", "Creta", 2016, 2022, 5),
    CarModel("Hyundai", "Tucson", 2015, 2022, 2),
    CarModel("Toyota", "Camry", 2011, 2022, 5),
    CarModel("Toyota", "RAV4", 2013, 2022, 4),
    CarModel("Toyota", "Land Cruiser Prado", 2010, 2022, 2),
    CarModel("Skoda", "Octavia", 2010, 2022, 5),
    CarModel("Skoda", "Rapid", 2014, 2022, 4),
    CarModel("Skoda", "Kodiaq", 2017, 2022, 2),
    CarModel("Volkswagen", "Polo", 2010, 2022, 6),
    CarModel("Volkswagen", "Tiguan", 2011, 2022, 3),
    CarModel("Renault", "Logan", 2010, 2022, 4),
    CarModel("Renault", "Duster", 2012, 2022, 4),
    CarModel("Nissan", "Qashqai", 2014, 2022, 2),
    CarModel("Haval", "Jolion", 2021, 2026, 6),
    CarModel("Haval", "F7", 2019, 2026, 3),
    CarModel("Haval", "Dargo", 2022, 2026, 2),
    CarModel("Chery", "Tiggo 7 Pro", 2020, 2026, 5),
    CarModel("Chery", "Tiggo 4 Pro", 2021, 2026, 3),
    CarModel("Chery", "Tiggo 8 Pro", 2021, 2026, 2),
    CarModel("Geely", "Coolray", 2020, 2026, 5),
    CarModel("Geely", "Monjaro", 2023, 2026, 3),
    CarModel("Geely", "Atlas Pro", 2021, 2026, 2),
    CarModel("Changan", "CS35 Plus", 2021, 2026, 2),
    CarModel("Changan", "UNI-K", 2022, 2026, 1),
)
CAR_WEIGHTS = tuple(m.weight for m in CAR_MODELS)

# World manufacturer codes (the first three VIN characters) of the plants these makes sell from in Russia.
WMI = {
    "Lada": "XTA",
    "Kia": "Z94",
    "Hyundai": "Z94",
    "Toyota": "XW7",
    "Skoda": "XW8",
    "Volkswagen": "XW8",
    "Renault": "X7L",
    "Nissan": "Z8N",
    "Haval": "LGW",
    "Chery": "LVV",
    "Geely": "L6T",
    "Changan": "LS5",
}
COLOURS = (
    "белый", "белый", "чёрный", "чёрный", "серебристый", "серый", "серый", "синий", "красный", "коричневый",
    "бежевый", "зелёный", "оранжевый",
)  # fmt: skip

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# ISO 3779 model-year letters (the 10th VIN character): 2010 is A, and I, O, Q, U, Z and 0 are skipped.
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY"
# ISO 3779 values of VIN characters for the check digit.
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def pick_car(rng: random.Random) -> CarModel:
    return rng.choices(CAR_MODELS, weights=CAR_WEIGHTS)[0]


def year_code(year: int) -> str:
    if 2001 <= year <= 2009:
        return str(year - 2000)
    return _YEAR_CODES[(year - 2010) % len(_YEAR_CODES)]


def _model_code(car: CarModel) -> str:
    """Five VIN characters that stay the same for every car of one model, as a real model code does."""
    seed = sum((i + 1) * ord(ch) for i, ch in enumerate(car.make + car.model))
    return "".join(VIN_CHARS[(seed * (7 + 3 * i)) % len(VIN_CHARS)] for i in range(5))


def vin(car: CarModel, year: int, serial: int) -> str:
    """A VIN with the make's plant code, the model year and a serial; distinct serials give distinct VINs.

    Position 9 carries the ISO 3779 check digit, which Russian registration does not ask for but does not hurt.
    """
    plant = VIN_CHARS[(serial // 10**6) % len(VIN_CHARS)]
    body = f"{WMI[car.make]}{_model_code(car)}0{year_code(year)}{plant}{serial % 10**6:06d}"
    total = sum(_VIN_VALUES[ch] * weight for ch, weight in zip(body, _VIN_WEIGHTS, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


# Moscow and the Moscow region dominate; a few from elsewhere drive in.
PLATE_REGIONS = (
    *("77", "97", "99", "177", "197", "199", "777", "797", "799", "977") * 3,
    *("50", "90", "150", "190", "750", "790") * 3,
    "40", "62", "69", "71", "33", "37", "76", "78", "178", "52", "152", "36", "136", "23", "123", "16", "116",
)  # fmt: skip
_PLATE_SPACE = 12 * 999 * 144  # letter, 001–999, two letters


def plate(rng: random.Random, index: int | None = None) -> str:
    """A plate like А123ВС77; with `index`, distinct indexes (below about 1.7 million) give distinct plates."""
    if index is None:
        n = rng.randrange(_PLATE_SPACE)
    else:
        # 1_000_003 is prime and does not divide the space, so this is a permutation: distinct in, distinct out.
        n = (index * 1_000_003 + 12_345) % _PLATE_SPACE
    first, rest = divmod(n, 999 * 144)
    digits, pair = divmod(rest, 144)
    letters = PLATE_LETTERS
    return f"{letters[first]}{digits + 1:03d}{letters[pair // 12]}{letters[pair % 12]}{rng.choice(PLATE_REGIONS)}"


# --- Calls -------------------------------------------------------------------------------------------------------

INBOUND_PURPOSES = ("booking", "consultation", "complaint", "other")
INBOUND_PURPOSE_WEIGHTS = (45, 35, 6, 14)
OUTBOUND_PURPOSES = ("confirmation", "follow_up", "campaign", "booking", "other")
OUTBOUND_PURPOSE_WEIGHTS = (40, 25, 15, 15, 5)
# Inbound calls were answered by us, so never "no answer" or "busy" (the model refuses those).
INBOUND_OUTCOMES = ("resolved", "booked", "callback", "transferred", "wrong_number")
INBOUND_OUTCOME_WEIGHTS = (45, 30, 12, 10, 3)
OUTBOUND_OUTCOMES = ("resolved", "booked", "callback", "no_answer", "busy", "wrong_number")
OUTBOUND_OUTCOME_WEIGHTS = (40, 12, 10, 28, 8, 2)
UNANSWERED = frozenset({"no_answer", "busy"})

CALL_NOTES = {
    "booking": ("Записан на ТО", "Записан на диагностику подвески", "Замена масла и фильтров", "Шиномонтаж"),
    "consultation": ("Стоимость ТО-2", "Спрашивал про гарантию", "Уточнял сроки ремонта", "Спросил про тонировку"),
    "complaint": ("Недоволен сроками ремонта", "Стук после ремонта, просит перезвонить мастера"),
    "confirmation": ("Визит подтверждён", "Просит перенести на час позже"),
    "follow_up": ("Доволен покупкой, CSI 10", "Вопрос по мультимедиа, объяснили", "CSI 8, долго оформляли"),
    "campaign": ("Интересуется акцией на зимние шины", "Отказался"),
    "other": ("Спрашивал про эвакуатор", "Уточнял адрес", "Заказ тонировки"),
}


def call_direction_purpose_outcome(rng: random.Random, *, inbound_share: float = 0.55) -> tuple[str, str, str]:
    if rng.random() < inbound_share:
        return (
            "in",
            rng.choices(INBOUND_PURPOSES, weights=INBOUND_PURPOSE_WEIGHTS)[0],
            rng.choices(INBOUND_OUTCOMES, weights=INBOUND_OUTCOME_WEIGHTS)[0],
        )
    return (
        "out",
        rng.choices(OUTBOUND_PURPOSES, weights=OUTBOUND_PURPOSE_WEIGHTS)[0],
        rng.choices(OUTBOUND_OUTCOMES, weights=OUTBOUND_OUTCOME_WEIGHTS)[0],
    )


def call_duration(rng: random.Random, outcome: str) -> int:
    if outcome in UNANSWERED:
        return 0
    return int(rng.lognormvariate(4.8, 0.6))  # about two minutes, a long tail of ten


# --- The demo department -----------------------------------------------------------------------------------------

DEMO_PASSWORD = "demo12345"  # noqa: S105 - printed on the start banner; the demo is for a laptop, not a server


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str


DEMO_STAFF = (
    DemoUser("head", Role.HEAD, "Ольга", "Иванова"),
    DemoUser("manager1", Role.MANAGER, "Мария", "Смирнова"),
    DemoUser("manager2", Role.MANAGER, "Дмитрий", "Козлов"),
    DemoUser("advisor", Role.ADVISOR, "Сергей", "Павлов"),
    DemoUser("transport", Role.TRANSPORT_HEAD, "Андрей", "Николаев"),
    # A claim is escalated to one of the managements, which decides it; the lawyer endorses contracts.
    DemoUser("workshop_mgmt", Role.WORKSHOP_MANAGEMENT, "Павел", "Орлов"),
    DemoUser("sales_mgmt", Role.SALES_MANAGEMENT, "Ирина", "Белова"),
    DemoUser("legal", Role.LEGAL, "Антон", "Юрьев"),
)
DEMO_INTEGRATION = DemoUser("dms", Role.INTEGRATION, "DMS", "«Автосервис»")
DEMO_USERNAMES = (*(u.username for u in DEMO_STAFF), DEMO_INTEGRATION.username)
