"""Traditional -> simplified Chinese characters, for matching only.

The lexicon is written in simplified characters; this table folds traditional input onto it.
It is not a general converter (no phrase-level conversion). Two sources:

* OpenCC's character table (``safety/data/t2s.txt``, about 2,700 characters), so that any
  traditional text folds, not only the words the rules were written with;
* the hand-picked pairs below, which win where a character has several simplified forms and
  the rules need a particular one (著 -> 着 for 活着/睡着).
"""

from __future__ import annotations

from importlib import resources

# Each whitespace-separated token is two characters: traditional, then simplified.
_PAIRS = """
殺杀 藥药 結结 東东 遺遗 書书 輕轻 見见 準准 備备 沒没 這这 個个 會会 還还 們们 來来 為为 爲为
時时 後后 間间 過过 說说 對对 讓让 樓楼 車车 門门 開开 關关 機机 電电 話话 氣气 聽听 長长 頭头
發发 髮发 歲岁 學学 樣样 麼么 麽么 嗎吗 點点 麵面 買买 賣卖 錢钱 愛爱 難难 傷伤 體体 裡里 裏里
邊边 臉脸 淚泪 絕绝 絶绝 無无 義义 處处 從从 陽阳 臺台 檯台 颱台 戶户 橋桥 繩绳 紙纸 條条 線线
殘残 劃划 顆颗 農农 醫医 療疗 劑剂 壓压 憂忧 鬱郁 慮虑 癥症 經经 礙碍 雙双 啟启 讀读 寫写 語语
謝谢 請请 認认 識识 覺觉 應应 該该 須须 確确 實实 現现 離离 別别 遠远 歡欢 樂乐 燒烧 擁拥 攢攒
夠够 著着 幫帮 顧顾 媽妈 親亲 種种 穩稳 歸归 盡尽 於于 報报 復复 強强 姦奸 褻亵 罵骂 動动 脈脉
鬧闹 緻致 數数 幾几 層层 決决 計计 畫画 辦办 錯错 誰谁 憑凭 給给 與与 並并 隻只 祇只 衹只 總总
變变 聲声 態态 夢梦 極极 壞坏 負负 擔担 贅赘 餘余 價价 嚇吓 熱热 餓饿 煩烦 悶闷 厭厌 潰溃 撐撑
堅坚 聯联 繫系 係是 絡络 號号 碼码 專专 業业 導导 師师 診诊 斷断 創创 羅罗 蘭兰 鋰锂 鹽盐 奧奥
侖仑 勞劳 鎮镇 靜静 喫吃 敵敌 鼠鼠 潔洁 廁厕 靈灵 掛挂 頂顶 欄栏 墜坠 軌轨 臥卧 暈晕 嘔呕 搶抢
馬马 週周 鐘钟 鍾钟 兒儿 輩辈 訊讯 簡简 單单 記记 錄录 鬥斗 爭争 獨独 騙骗 淩凌 罷罢 脫脱 鬆松
選选 擇择 權权 驟骤 適适 債债 輸输 贏赢 賭赌 試试 績绩 戀恋 隨随 亂乱 妳你 祢你 將将 嘗尝 獲获
險险 視视 網网 遊游 戲戏 劇剧 爺爷 課课 題题 驗验 腦脑 臟脏 腸肠 頻频 兩两 萬万 億亿 張张 組组
紀纪 綁绑 燈灯 牆墙 簾帘 廚厨 衛卫 紅红 綠绿 藍蓝 黃黄 顏颜 錶表 鏡镜 湯汤 飯饭 飲饮 煙烟 菸烟
癮瘾 針针 輔辅 諮咨 詢询 術术 藝艺 聞闻 稱称 嚴严 較较 級级 歷历 產产 況况 狀状 設设 議议 論论
證证 據据 傳传 講讲 談谈 訴诉 訪访 問问 複复 雜杂 譜谱 戰战 勝胜 敗败 驚惊 緊紧 興兴 奮奋 憐怜
憫悯 慘惨 爛烂 髒脏 響响 嘆叹 歎叹 瘋疯 醜丑 飽饱 睏困 懶懒 憊惫 擺摆 寢寝 瞭了 乾干 幹干 範范
製制 衝冲 儘尽 穀谷 殺杀 滅灭 毀毁 懼惧 緒绪 虛虚 責责 屬属 圍围 環环 際际 續续 繼继 陰阴 墳坟
禮礼 喪丧 屍尸 終终 窮穷 飛飞 鳥鸟 魚鱼 龍龙 風风 雲云 廢废 棄弃 擊击 槍枪 彈弹 劍剑 鋒锋 銳锐
鎖锁 閉闭 峽峡 淵渊 濱滨 車车 軟软 體体 頸颈 喉喉 膽胆 藏藏 囑嘱 託托 丟丢 鐵铁 煤煤 瓦瓦 斯斯
帶带 麗丽 葉叶 蘇苏 寧宁 鄰邻 憤愤 懟怼 討讨 厭厌 孫孙 婦妇 騷骚 擾扰 脅胁 嚨咙 揮挥 揍揍 勸劝
陣阵 參参 與与 壽寿 歲岁 輛辆 駕驾 駛驶 闖闯 紅红 沖冲 溝沟 災灾 難难 雞鸡 鴨鸭 豬猪 貓猫 狗狗
寵宠 鋼钢 針针 剪剪 錘锤 貝贝 寶宝 嬰婴 孕孕 墮堕 謀谋 滾滚 趕赶 恆恒 氫氢 氮氮 氧氧 碳碳 廂厢
蟲虫 殼壳 膠胶 囊囊 劑剂 粒粒 盒盒 顯显 許许 謂谓 靠靠 樣样 穫获 盪荡 蕩荡 擠挤 廣广 莊庄 黨党
壞坏 禍祸 惱恼 懷怀 憶忆 撿捡 執执 擬拟 類类 聖圣 靈灵 魂魂 覆覆 盡尽 鑰钥 匙匙 窩窝 閣阁 簽签
約约 撥拨 熱热 線线 專专 屬属 陪陪 談谈 兇凶 凶凶 惡恶 霸霸 凌凌 揚扬 審审 罰罚 懲惩 罰罚 燙烫
撞撞 摔摔 溺溺 淹淹 窒窒 縊缢 吊吊 懸悬 噴喷 劇剧 鈍钝 銷销 隱隐 瞞瞒 藥药
"""


# Written Cantonese folded onto Mandarin, so one rule reads both: 我已经諗好喺边度跳 reads
# 我已经想好在边度跳. Only characters whose Cantonese sense is (almost) their only one.
_CANTONESE = """
𠝹割 喺在 咗了 嘅的 冇没 唔不 佢他 啲些 嚟来 瞓睡 俾给 嗰那 咩吗 攰累 諗想 啱刚 揸抓 嬲气 睇看 搵找
"""


def _opencc() -> dict[str, str]:
    text = resources.files("safety").joinpath("data", "t2s.txt").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            traditional, simplified = line.split("\t")
            table[traditional] = simplified
    return table


def _build() -> dict[str, str]:
    table = _opencc()
    for token in (_PAIRS + _CANTONESE).split():
        if len(token) != 2:
            raise ValueError(f"t2s pair {token!r} is not two characters")
        traditional, simplified = token[0], token[1]
        if traditional != simplified:
            table[traditional] = simplified
    return _folded(table)


def _folded(table: dict[str, str]) -> dict[str, str]:
    """Follow chains (A -> B -> C becomes A -> C) so that folding twice changes nothing; a
    character caught in a cycle keeps its own form."""
    folded: dict[str, str] = {}
    for start in table:
        seen, current = {start}, table[start]
        while current in table and current not in seen:
            seen.add(current)
            current = table[current]
        if current != start and current not in table:
            folded[start] = current
    return folded


TRADITIONAL_TO_SIMPLIFIED: dict[str, str] = _build()
