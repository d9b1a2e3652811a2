#!/usr/bin/env python3
"""A deterministic knowledge-base corpus for Benchmarks/kb-search.sh: N articles (default 50,000)
of 12345-style Chinese text, and queries whose true answer is known.

Each article is one topic (违章停车, 社保卡补办, 公积金提取, 供暖...) for one district, with a
variant number; its title, keywords and body are drawn from the topic's phrases, the district's
name and common filler sentences, with a fixed seed, so the text is realistic and every run makes
the same corpus. A query names a topic (and often a district); its true answers are the articles
of that topic (and district): a hit is right when its id (`topic-dNN-number`) carries them.

    kb-corpus.py ARTICLES_CSV QUERIES_TSV [N]
"""
import csv
import random
import sys

TOPICS = [
    # (key, business line, unit, title forms, keywords, body phrases)
    ("parking", "move_car", "yinchuan.traffic_police", ["违章停车挡住出口如何挪车", "车辆被堵申请挪车", "占道停车投诉处理"],
     ["挪车", "违章停车", "车被堵"], ["车辆被违章停放的车辆堵住时可申请挪车", "交警通过车管系统联系车主", "联系不上车主的依法拖移车辆"]),
    ("ticket", "move_car", "yinchuan.traffic_police", ["违章罚单申诉办理", "电子眼抓拍有异议如何复核"],
     ["罚单", "申诉", "贴条"], ["收到告知单之日起15日内可申请复核", "可通过交管12123提交申诉材料"]),
    ("sscard", "policy", "ningxia.human_resources", ["社保卡丢失挂失补办", "社保卡换领和激活"],
     ["社保卡", "挂失", "补办"], ["社保卡丢失后请立即办理临时挂失", "携带身份证到合作银行网点补办", "即时制卡网点可当场领卡"]),
    ("fund", "policy", "yinchuan.housing", ["住房公积金提取条件", "公积金贷款申请流程"],
     ["公积金", "提取", "贷款"], ["购买自住住房可以提取住房公积金", "租房提取每年可办理一次", "通过公积金网厅在线办理"]),
    ("business", "complaints", "ningxia.business_environment", ["营商环境投诉受理", "拖欠中小企业账款投诉"],
     ["营商环境", "企业投诉", "乱收费"], ["企业反映办事难办事慢可投诉", "投诉在1个工作日内转办", "承办单位5个工作日内反馈"]),
    ("heating", "heating", "yinchuan.housing", ["供暖室温不达标处理", "暖气不热报修"],
     ["供暖", "暖气不热", "采暖费"], ["供暖期室内温度不低于18℃", "供热企业24小时内上门测温", "测温不达标退还采暖费"]),
    ("water", "policy", "yinchuan.water", ["停水通知查询", "水压低水质浑浊反映"],
     ["停水", "水压", "自来水"], ["计划停水提前24小时公告", "停水超过24小时安排送水车", "水质问题由供水企业检测"]),
    ("noise", "complaints", "yinchuan.xingqing", ["夜间施工噪音扰民投诉", "广场舞噪音扰民"],
     ["噪音", "扰民", "夜间施工"], ["夜间22时至次日6时禁止施工作业", "城管部门到场核查噪声", "噪声超标依法处罚"]),
    ("wage", "complaints", "ningxia.human_resources", ["拖欠农民工工资投诉", "劳动合同纠纷咨询"],
     ["欠薪", "农民工工资", "劳动仲裁"], ["拖欠工资可向劳动监察大队投诉", "提供劳动合同和考勤记录", "可申请劳动仲裁"]),
    ("school", "policy", "yinchuan.xingqing", ["小学入学报名条件", "义务教育学区划分查询"],
     ["入学", "学区", "报名"], ["适龄儿童凭户口和房产证明报名", "学区划分每年5月公布", "随迁子女提供居住证"]),
    ("medical", "policy", "ningxia.human_resources", ["医保异地就医备案", "门诊慢特病待遇申请"],
     ["医保", "异地就医", "报销"], ["异地就医需先办理备案", "备案可通过国家医保服务平台办理", "慢特病待遇需医院鉴定"]),
    ("market", "complaints", "ningxia.market_regulation", ["食品安全问题举报", "网购商品质量投诉"],
     ["食品安全", "消费投诉", "退货"], ["市场监管部门7个工作日内决定是否受理", "保留购物凭证和商品", "可申请消费纠纷调解"]),
    ("road", "policy", "yinchuan.jinfeng", ["道路坑洼破损报修", "路灯不亮报修"],
     ["路灯", "坑洼", "井盖"], ["市政部门48小时内到场维修", "请说明具体路段和位置", "井盖缺失先设置警示"]),
    ("property", "complaints", "yinchuan.housing", ["物业服务质量投诉", "电梯故障长期不修"],
     ["物业", "电梯", "物业费"], ["物业服务不到位可向街道反映", "电梯故障由特种设备部门督办", "业主委员会可依法更换物业"]),
]
DISTRICTS = ["兴庆区", "金凤区", "西夏区", "永宁县", "贺兰县", "灵武市", "大武口区", "惠农区", "平罗县", "利通区",
             "青铜峡市", "原州区", "沙坡头区", "中宁县", "盐池县", "同心县", "隆德县", "泾源县", "彭阳县", "海原县"]
FILLER = ["如有疑问可拨打12345政务服务便民热线咨询", "办理时请携带本人有效身份证件", "相关政策以主管部门最新公布为准",
          "办理结果将通过短信告知", "工作日上午9时至下午5时受理", "也可通过我的宁夏手机应用在线办理",
          "材料不全的将一次性告知需补正的内容", "涉及多个部门的由12345中心协调督办"]


def articles(count, rng):
    for i in range(count):
        key, line, unit, titles, keywords, phrases = TOPICS[i % len(TOPICS)]
        d = (i // len(TOPICS)) % len(DISTRICTS)
        district = DISTRICTS[d]
        variant = i // (len(TOPICS) * len(DISTRICTS))
        title = f"{district}{rng.choice(titles)}（{variant + 1}）"
        sentences = [f"{district}居民{rng.choice(phrases)}"] + rng.sample(phrases, k=min(2, len(phrases)))
        sentences += rng.sample(FILLER, k=rng.randint(2, 5))
        rng.shuffle(sentences)
        body = "。".join(sentences) + "。"
        words = rng.sample(keywords, k=2) + [district]
        yield {"id": f"{key}-d{d:02d}-{i:05d}", "title": title, "body": body, "business_line": line, "units": unit,
               "keywords": ";".join(words), "valid_from": "", "valid_to": ""}


def queries(rng):
    out = []
    for key, _line, _unit, titles, keywords, phrases in TOPICS:
        d = rng.randrange(len(DISTRICTS))
        district = DISTRICTS[d]
        out.append((keywords[0], key, ""))                                  # a keyword (2-4 characters)
        out.append((f"{district} {keywords[0]}", key, f"d{d:02d}"))         # district and keyword
        out.append((rng.choice(titles), key, ""))                           # a title form
        out.append((f"{district}{rng.choice(phrases)[:10]}怎么办", key, f"d{d:02d}"))  # a question
    return out


def main():
    path, qpath = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    rng = random.Random(12345)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "title", "body", "business_line", "units", "keywords", "valid_from", "valid_to"])
        writer.writeheader()
        for article in articles(count, rng):
            writer.writerow(article)
    with open(qpath, "w", encoding="utf-8") as f:
        for text, key, district in queries(random.Random(54321)):
            f.write(f"{text}\t{key}\t{district}\n")


if __name__ == "__main__":
    main()
