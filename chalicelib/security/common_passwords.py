"""A small blocklist of passwords attackers try first.

NIST SP 800-63B asks verifiers to refuse values from breach corpora and dictionaries. A full corpus
(hundreds of MB) does not fit a Lambda package, so this ships the classics from public "most common
password" lists, their usual 12+ character stretchings (the length rule already refuses the short
originals) and local favourites (``5201314`` reads "I love you for a lifetime" in Mandarin). All
entries are lowercase; the policy lowercases before looking up.
"""

from __future__ import annotations

_ENTRIES = """
123456 123456789 12345678 12345 1234567 1234567890 111111 000000 123123 654321 666666 888888
password password1 passw0rd p@ssw0rd qwerty qwerty123 qwertyuiop 1q2w3e4r 1qaz2wsx qazwsx zaq12wsx
1qazxsw2 abc123 abcd1234 a123456 aa123456 a12345678 123qwe qwe123 asd123 zxcvbnm asdfghjkl
iloveyou iloveyou1 admin letmein welcome monkey dragon sunshine princess football baseball master
shadow superman michael trustno1 5201314 520520 1314520 woaini1314 147258369 987654321 159753
112233 121212 11111111 88888888 66666666 taiwan taipei
123456789012 1234567890123 12345678901234 123123123123 111111111111 000000000000 888888888888
666666666666 123456123456 987654321098 147258369147 159753159753 112233445566 121212121212
password1234 password12345 password123456 password@123 password!123 password123! password2024
password2025 password2026 passw0rd1234 p@ssw0rd1234 p@ssword1234 p@$$w0rd1234 p@ssw0rd123!
qwerty123456 qwertyuiop12 qwertyuiop123 qwertyuiop1234 qwerty12345678 qwertyqwerty1 qwerty!@#$%^
1q2w3e4r5t6y 1q2w3e4r5t6y7u q1w2e3r4t5y6 1qaz2wsx3edc 1qaz2wsx3edc4rfv 1qaz@wsx3edc 1qaz!qaz1qaz
zaq1xsw2cde3 zaq!2wsx3edc qazwsxedcrfv qazwsxedc123 zxcvbnm12345 zxcvbnm123456 asdfghjkl123
asdfghjkl1234 asdfasdfasdf1 asdf1234asdf qwer1234qwer 1234qwer!@#$ abcd1234abcd abc123abc123
abc123456789 abcdefg12345 abcdef123456 a1b2c3d4e5f6 1a2b3c4d5e6f aa1234567890 aa123456789a
a1234567890b iloveyou1234 iloveyou123456 iloveyou2024 iloveyou2025 iloveyou5201314 welcome12345
welcome123456 welcome@1234 welcome2024! welcome2025! admin1234567 admin@123456 admin!234567
administrator administrator1 administrator123 letmein12345 letmein123456 letmeinplease1 changeme1234
changeme123! default12345 default123456 football1234 baseball1234 basketball12 basketball123
superman1234 batman123456 starwars1234 pokemon12345 princess1234 sunshine1234 dragon123456
monkey123456 shadow123456 master123456 michael12345 jennifer1234 trustno112345 woaini1314520
woaini520520 woaini123456 5201314520 52013145201314 1314520520 taiwan123456 taiwan1234567
taiwan2024! taiwan2025! taipei123456 taipei101101 company12345 company123456 invoice12345
invoice123456 einvoice1234 einvoice123456 merchant1234 business1234 summer2024!! spring2025!!
winter2024!! autumn2024!! test12345678 test123456789 testtest1234 guest1234567 user12345678
demo12345678 hello1234567 hello123456789 helloworld123 helloworld1! aaaaaa111111 aaaa11111111
000000aaaaaa !@#$%^&*()12 !qaz2wsx3edc 1234567890qw 1234567890q! 0987654321qw qweasdzxc123
qweasdzxc1234 asdzxc123456 1234abcd1234 12345678abcd 12345678abc! abcd12345678 a123456789!!
p@ssw0rd!234 passwordpassword1 password1password 11223344556677 iloveyouiloveyou1
"""

#: Lowercase common passwords; see the module docstring for where they come from.
COMMON_PASSWORDS: frozenset[str] = frozenset(_ENTRIES.split())
